"""The control plane under ``/_emulator/``: health, capabilities, tenants, keys, the clock, faults,
the journal and reset."""
