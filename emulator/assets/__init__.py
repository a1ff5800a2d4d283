"""Asset Management v3: routes (HTTP) over service (domain) and resources (JSON shapes)."""
