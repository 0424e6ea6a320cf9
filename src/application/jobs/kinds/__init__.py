"""One handler per job kind."""
