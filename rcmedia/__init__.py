"""rcmedia: ingest courseware into an aligned HLS ladder, schedule channels, play them out."""

__version__ = "0.1.0"
