"""IoT Time Series v3: records of an asset's dynamic aspects (mindsphere-api.md 3)."""
