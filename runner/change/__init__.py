"""Change control for production (install/update SOP stages 1-2; ISO/IEC 27001:2022 8.32 change management)."""
