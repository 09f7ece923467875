"""Liveness (``/healthz``) and readiness (``/readyz``): anonymous, never cached.

``/healthz``: the process answers and the catalog answers a trivial query. ``/readyz``: whether
this origin can do its work now: the catalog answers, the storage is reachable, and the broker
is when jobs go through one. A load balancer takes an origin that is not ready out of rotation.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from rcmedia.config import Settings
from rcmedia.errors import CatalogError, RcmediaError
from rcmedia.storage.base import Reachable
from rcmedia.web.json_response import json_response
from rcmedia.web.keys import CATALOG_KEY, SETTINGS_KEY, STORAGE_KEY

log = logging.getLogger(__name__)
NO_STORE = {hdrs.CACHE_CONTROL: "no-store"}
CHECK_SECONDS = 2.0  # each readiness check's limit: a hung database is "not ready", not a hung probe
BROKER_PORTS = {"amqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6379}


async def healthz(request: web.Request) -> web.Response:
    try:
        await asyncio.to_thread(request.app[CATALOG_KEY].find_jobs, limit=1)
    except CatalogError as exc:
        reason = str(exc).splitlines()[0][:300]
        log.warning("health check failed: %s", reason)
        return json_response({"status": "unavailable", "reason": reason}, status=503, headers=NO_STORE)
    return json_response({"status": "ok"}, headers=NO_STORE)


def readiness_checks(app: web.Application) -> dict[str, Callable[[], str | None]]:
    """Each check by name: None (or a detail) when fine; raises ``RcmediaError``/``OSError`` (blocking)."""
    storage = app[STORAGE_KEY]
    return {
        "catalog": app[CATALOG_KEY].ping,
        "storage": storage.check_reachable if isinstance(storage, Reachable) else lambda: "not checked",
        "broker": lambda: check_broker(app[SETTINGS_KEY]),
    }


async def readiness(app: web.Application) -> dict[str, bool]:
    """Whether each check passes (the metrics' ``rcmedia_ready``)."""
    checks = readiness_checks(app)
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    return {name: bool(result["ok"]) for name, result in zip(checks, results, strict=True)}


async def readyz(request: web.Request) -> web.Response:
    checks = readiness_checks(request.app)
    results = await asyncio.gather(*(_run(name, check) for name, check in checks.items()))
    document = dict(zip(checks, results, strict=True))
    ready = all(result["ok"] for result in results)
    if not ready:
        log.warning("not ready: %s", {n: r["reason"] for n, r in document.items() if not r["ok"]})
    return json_response(
        {"status": "ok" if ready else "unavailable", "checks": document},
        status=200 if ready else 503,
        headers=NO_STORE,
    )


async def _run(name: str, check: Callable[[], str | None]) -> dict[str, object]:
    try:
        detail = await asyncio.wait_for(asyncio.to_thread(check), CHECK_SECONDS)
    except TimeoutError:
        return {"ok": False, "reason": f"{name} did not answer in {CHECK_SECONDS:g} s"}
    except (RcmediaError, OSError) as exc:
        return {"ok": False, "reason": str(exc).splitlines()[0][:300]}
    return {"ok": True} if detail is None else {"ok": True, "detail": detail}


def check_broker(settings: Settings) -> str | None:
    """The message broker accepts a TCP connection, or "not configured" with in-process jobs.

    The hook for ``executor = "celery"``: a TCP connection to ``broker_url``'s host proves the
    broker is up and routable without a Celery dependency in the origin.
    """
    if settings.executor != "celery":
        return "not configured"
    url = urlsplit(settings.broker_url)
    port = url.port or BROKER_PORTS.get(url.scheme)
    if not url.hostname or port is None:
        raise OSError(f"cannot tell the broker's address from broker_url {url.scheme}://{url.hostname}")
    with socket.create_connection((url.hostname, port), timeout=CHECK_SECONDS):
        return None
