"""Typed application state: the collaborators ``create_app`` is given, one ``web.AppKey`` each."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from rcmedia.catalog.repository import Catalog
from rcmedia.config import Settings
from rcmedia.core.profile import Profile
from rcmedia.storage.base import Storage

SETTINGS_KEY = web.AppKey("settings", Settings)
CATALOG_KEY = web.AppKey("catalog", Catalog)
# Protocols and generic aliases are not concrete classes, so these carry their type as a parameter.
STORAGE_KEY = web.AppKey[Storage]("storage")
PROFILES_KEY = web.AppKey[Mapping[str, Profile]]("profiles")
