"""Benchmark harness: cumkhoi against KMeans, k-means-constrained and plain CP-SAT."""
