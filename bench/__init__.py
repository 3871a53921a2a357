"""Benchmark of the content API against a replaying baseline: ``make bench``."""
