"""The control plane under ``/_emulator/``: health, capabilities, tenants, keys (and, later, faults,
clock, journal, reset and snapshots)."""
