"""Ingest: intake (CLI, hot folder, API) → probe → condition + transcode once → verify → publish."""
