"""Benchmarks. Each writes its section of bench/RESULTS.md; `make bench` runs them all."""
