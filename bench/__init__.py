"""Benchmarks at national scale (issue 7): data generator, ETL, metrics and dashboard timings."""
