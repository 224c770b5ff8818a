"""`make bench`: side-by-side benchmarks of the hotline against its bare stack (python -m bench.run)."""
