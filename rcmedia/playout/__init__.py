"""The playout side of the origin: live timelines kept in memory, and what may air (adapters)."""
