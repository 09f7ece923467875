"""Running the app on a real TCP port, as ``rcmedia serve`` does."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import pytest
from aiohttp import web

from rcmedia.errors import ConfigError
from rcmedia.web.app import RunningServer, serve, start_server


async def test_start_and_stop(app: web.Application) -> None:
    server = await start_server(app, host="127.0.0.1", port=0)
    try:
        assert server.port != 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession() as session, session.get(f"{server.url}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok"}
    finally:
        await server.stop()

    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{server.url}/healthz")


async def test_serve_runs_until_cancelled(app: web.Application) -> None:
    ready: asyncio.Future[RunningServer] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve(app, host="127.0.0.1", port=0, on_ready=ready.set_result))
    server = await asyncio.wait_for(ready, timeout=10)

    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/healthz") as response:
        assert response.status == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{server.url}/healthz")


async def test_a_taken_port_is_a_clear_error(app: web.Application) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(ConfigError, match=rf"127\.0\.0\.1:{port}.*--port"):
            await start_server(app, host="127.0.0.1", port=port)
