"""Benchmarks (run with `make bench`); each one runs in its own process and prints JSON."""
