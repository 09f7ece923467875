"""Where packaged media lives. ``base.Storage`` is the port; ``local`` (and later ``s3``) adapt it."""
