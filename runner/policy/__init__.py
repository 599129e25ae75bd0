"""Policy data: SOP steps, ISO/IEC 27001:2022 references, control catalogue, waivers."""
