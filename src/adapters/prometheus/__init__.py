"""Prometheus exposition of Parley's metrics."""
