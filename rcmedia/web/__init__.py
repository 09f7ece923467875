"""The origin (aiohttp): VOD playlists, media files, the JSON API and health. Entry: ``app.create_app``."""
