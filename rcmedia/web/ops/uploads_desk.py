"""``GET /ops/uploads``: the upload desk — drop files, watch them go up, fix their metadata after.

The page is a tus client (tus-js-client, vendored from npm) of ``/api/v1/uploads``, so it speaks
to the server exactly as any other client does: no upload route exists for the page alone. What
it needs from here is the server's limits, so a file too large is refused before a byte is sent
(the server refuses it again on the headers: the page shows whichever reason comes first).
"""

from __future__ import annotations

from aiohttp import web

from rcmedia.core.accounts import Role
from rcmedia.core.models import Output, Source
from rcmedia.web.keys import SETTINGS_KEY
from rcmedia.web.ops.pages import ops_html, page_user
from rcmedia.web.uploads import UPLOADS_PATH

# Bytes per PATCH. A dropped connection loses at most the chunk in flight (the server keeps what
# reached its disk, so usually less); 8 MiB keeps a fast link busy without making a retry costly.
CHUNK_BYTES = 8 * 1024 * 1024
# tus-js-client's waits (ms) before retrying after a dropped connection: a laptop lid or a Wi-Fi
# hand-over takes seconds, so the last waits are long; afterwards the file shows "failed" and
# adding it again resumes from the server's offset.
RETRY_DELAYS_MS = (0, 1000, 3000, 5000, 10000, 20000, 30000, 60000)


async def uploads_page(request: web.Request) -> web.Response:
    user = await page_user(request, Role.EDITOR)
    settings = request.app[SETTINGS_KEY]
    config = {
        "endpoint": UPLOADS_PATH,
        "max_upload_bytes": settings.max_upload_bytes,
        "chunk_bytes": min(CHUNK_BYTES, settings.max_upload_bytes),
        "retry_delays": list(RETRY_DELAYS_MS),
        "outputs": [output.value for output in Output],
        "sources": [source.value for source in Source],
    }
    return await ops_html(
        request, "ops/uploads.html", user=user, config=config, sources=[source.value for source in Source]
    )
