"""Side-by-side ratio benchmarks: each measures the emulator against a floor in the same run."""
