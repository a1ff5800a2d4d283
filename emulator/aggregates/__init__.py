"""IoT TS Aggregates v3 and v4: statistics of numeric variables per interval, from pre-computed rollups."""
