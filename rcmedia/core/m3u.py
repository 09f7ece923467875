"""The IPTV channel list (`/channels.m3u`), pure: what Kodi's IPTV Simple client and TiviMate read.

::

    #EXTM3U x-tvg-url="EPG" url-tvg="EPG"
    #EXTINF:-1 tvg-id="rcxf.rcmedia" tvg-name="…" tvg-chno="1" tvg-logo="…" group-title="…" catchup="default" catchup-days="7" catchup-source="BASE/catchup/rcxf/iptv/master.m3u8?utc={utc}&duration={duration}",Name
    BASE/live/rcxf/iptv/master.m3u8

On a channel whose ``continuous_outputs`` name the output, both URLs point at the continuous
playlists instead (``…/{output}/continuous/master.m3u8``: no EXT-X-DISCONTINUITY, for boxes and
restreamers that mishandle it; rcmedia.core.live_playlist). ``tvg-id`` is the channel's XMLTV id, exactly as ``/epg.xml`` writes it. ``{utc}`` (programme start,
Unix seconds) and ``{duration}`` (seconds) are left for the player to fill in. These players split
attributes on quotes and the name on the comma, so a ``"`` or ``,`` in a value becomes its
full-width form (``＂``, ``，``) and a line break a space. A channel with ``catchup_days = 0`` gets no
catch-up attributes. Channels come in channel-number order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rcmedia.core.models import Output
from rcmedia.core.schedule import Channel
from rcmedia.errors import ConfigError

_UNSAFE = str.maketrans({'"': "＂", ",": "，"})
_SPACES = re.compile(r"[\x00-\x1f\x7f]+")


def render_channel_list(channels: Sequence[Channel], *, output: Output, base_url: str, epg_url: str) -> str:
    """The M3U for the channels on ``output``; ``base_url`` is the origin the URLs are built on.

    ``base_url`` and ``epg_url`` must be absolute ``http(s)`` URLs (players resolve nothing);
    otherwise :class:`ConfigError`.
    """
    base = base_url.rstrip("/")
    for name, url in (("base_url", base), ("epg_url", epg_url)):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{name} {url!r} must be an absolute http(s) URL")
    epg = clean(epg_url)
    lines = [f'#EXTM3U x-tvg-url="{epg}" url-tvg="{epg}"']
    for channel in sorted(channels, key=lambda c: (c.number, c.id)):
        if output not in channel.outputs:
            continue
        name = clean(channel.name) or clean(channel.xmltv_id)
        logo = channel.logo.strip()
        if logo.startswith("/") and not logo.startswith("//"):
            logo = base + logo
        attributes = [
            ("tvg-id", clean(channel.xmltv_id)),
            ("tvg-name", name),
            ("tvg-chno", str(channel.number)),
            ("tvg-logo", clean(logo)),
            ("group-title", clean(channel.group)),
        ]
        variant = "continuous/" if output in channel.continuous_outputs else ""
        if channel.catchup_days > 0:
            source = (
                f"{base}/catchup/{channel.id}/{output}/{variant}master.m3u8?utc={{utc}}&duration={{duration}}"
            )
            attributes += [
                ("catchup", "default"),
                ("catchup-days", str(channel.catchup_days)),
                ("catchup-source", clean(source)),
            ]
        rendered = " ".join(f'{key}="{value}"' for key, value in attributes)
        lines.append(f"#EXTINF:-1 {rendered},{name}")
        lines.append(clean(f"{base}/live/{channel.id}/{output}/{variant}master.m3u8"))
    return "\n".join(lines) + "\n"


def clean(value: str) -> str:
    """A value safe inside ``key="…"`` and after the name comma: no quotes, commas or line breaks."""
    return _SPACES.sub(" ", value.translate(_UNSAFE)).strip()
