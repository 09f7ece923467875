"""HLS playlists (RFC 8216bis): reading and rendering. The only owner of the m3u8 library."""
