"""Typed application state: the collaborators ``create_app`` is given, one ``web.AppKey`` each."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.catalog.schedules import ScheduleStore
from rcmedia.config import Settings
from rcmedia.core.clock import Clock
from rcmedia.core.profile import Profile
from rcmedia.playout.aired import AiredFront
from rcmedia.playout.catchup import CatchupPlaylists
from rcmedia.playout.live import LiveChannels
from rcmedia.playout.missing_segments import MissingSegments
from rcmedia.playout.shifted import ShiftedSegments
from rcmedia.storage.base import Storage
from rcmedia.web.shared_render import SharedRenders

SETTINGS_KEY = web.AppKey("settings", Settings)
CATALOG_KEY = web.AppKey("catalog", Catalog)
SCHEDULES_KEY = web.AppKey("schedules", ScheduleStore)
# rendered /epg.xml documents, shared by the set-top boxes that poll at the same time
EPG_RENDERS_KEY = web.AppKey("epg_renders", SharedRenders)
# Protocols and generic aliases are not concrete classes, so these carry their type as a parameter.
STORAGE_KEY = web.AppKey[Storage]("storage")
PROFILES_KEY = web.AppKey[Mapping[str, Profile]]("profiles")
CLOCK_KEY = web.AppKey[Clock]("clock")
SHIFTED_KEY = web.AppKey("shifted", ShiftedSegments)
# segments as aired: rewritten onto the channel's clock, kept in memory and on disk
AIRED_KEY = web.AppKey("aired", AiredFront)
LIVE_KEY = web.AppKey("live", LiveChannels)
CATCHUP_KEY = web.AppKey("catchup", CatchupPlaylists)
# the slate in place of a published segment missing from storage
MISSING_KEY = web.AppKey("missing_segments", MissingSegments)
