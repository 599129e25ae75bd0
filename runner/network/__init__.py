"""Network SOP (SOP 3): device config backup into a git store, golden-config drift, morning network check."""
