"""The application layer: the use cases the web, the CLI and the jobs all call.

Each function here owns its transaction (and, for schedule writes, the channel output's write
lock) and raises the domain errors of ``rcmedia.errors``: ``NotFoundError`` (an unknown channel,
output or day), ``ConflictError`` (a write based on a version that is no longer current),
``ScheduleError`` (an edit the schedule refuses, with the reason) and ``BusyError`` (the lock was
not had in time). The web maps them to 404, 409, 422 and 503; the CLI to messages. SQLAlchemy stays
inside ``rcmedia.catalog``; nothing here imports the web, the CLI, the jobs or the playout.
"""
