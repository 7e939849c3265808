"""The benchmark harness behind `make bench` (see README, "Benchmarks")."""
