"""Benchmarks: `make bench` (python -m benchmarks) measures this API beside Flower on the production shape."""
