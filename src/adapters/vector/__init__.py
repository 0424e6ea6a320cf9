"""Vector index adapters (usearch)."""
