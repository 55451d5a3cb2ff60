"""Benchmarks of the contracts portal at scale: ``python -m bench`` (``make bench``)."""
