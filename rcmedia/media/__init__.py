"""The media adapter: the only owner of ffmpeg(-python) and pymediainfo."""
