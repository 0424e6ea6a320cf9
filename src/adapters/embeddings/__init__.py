"""Embedders: the local hashing one (default) and any OpenAI-compatible endpoint."""
