"""Conversation sources (import readers per format) and export writers, with their files."""
