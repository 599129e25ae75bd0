"""The fresh-machine check (tests/fresh-machine/run)."""
