"""Running processes for the tests and the benchmarks: managed subprocesses and waits that scale."""
