"""XMLTV rendering of channels and their programmes (pure): the `/epg.xml` document, streamed.

The output is valid against the XMLTV DTD (``xmltv.dtd``, shipped by the ``xmltv`` project and
Debian's ``xmltv-util``) and passes ``tv_validate_file``:

* channel ids must look like DNS names with a dot (``rcxf.rcmedia``); a channel whose id does not
  is refused with :class:`~rcmedia.errors.ConfigError` before anything is written;
* ``start``/``stop`` are ``YYYYMMDDhhmmss +hhmm`` in the channel's own time zone, offset per
  programme (in a zone with daylight saving, programmes either side of the change carry
  different offsets); sub-second parts are dropped, so a stop always equals the next start;
* programme children come in the DTD's order: title, sub-title, desc, category, language,
  episode-num, previously-shown, premiere, new.

What is listed: the gapless guide of :mod:`rcmedia.core.guide`, one ``<programme>`` per entry.

* A programme's entry runs from its start to the next programme's start: idents, filler and
  slate after it fold into it (or, on a channel with ``guide_filler = "list"``, are entries of
  their own). IPTV apps show "no information" for any gap, which viewers read as a broken
  channel; catch-up of a listed programme still plays exactly the programme (its replay range
  is the programme's own, not its entry's).
* A stretch with no programme before it is an entry titled with the channel's interlude title
  ("精彩节目"), with nothing else (no episode, no category).
* An entry shorter than a second that would render with ``start`` equal to ``stop`` is left out:
  the entry before it then stops where the one after it starts, so there is still no gap.
* The title is the series' name when the event belongs to a series, with the asset's own title
  as sub-title (so guides and recorders group the episodes of a series); a one-off shows its
  own title.

Repeats and premieres (the DTD's comments are the source for each element's meaning):

* ``<previously-shown start=…/>`` when the event says when it was shown before. The ``channel``
  attribute is left out: the DTD allows that when the earlier channel is not known for sure.
* ``<premiere/>`` when the event is a premiere: the first showing on this channel output, which
  is what the DTD calls "where 'premiere' would appear in a printed TV listing" (it may have aired
  elsewhere before).
* ``<new/>`` only for the first screened programme of a new show: the premiere of episode 1 of a
  series that has not been on television before (:attr:`ProgrammeInfo.first_run`). The DTD: "After
  the first episode or programme has been shown, subsequent ones are no longer 'new'", and it
  does not mean "new episode". A new episode of a running series is a premiere, not new; an
  episode 0 (pilot, special) and a one-off never get it.
* ``episode-num``: ``xmltv_ns`` is zero-based with the season and part left empty, so episode 12
  is ``.11.``; ``onscreen`` is what the credits say, ``第12集``. An episode 0 has no ``xmltv_ns``
  form (it would be -1) and gets only the onscreen number.

A channel with no entry in the window (nothing built there) is left out altogether:
``tv_validate_file`` counts a ``<channel>`` without programmes as an error, and an IPTV app shows
the same "no information" for a channel id it does not find (it has the name and logo from the
M3U). A document with no programme at all is still valid XMLTV but fails ``tv_validate_file``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rcmedia.core.guide import GuideEntry
from rcmedia.core.schedule import DEFAULT_INTERLUDE_TITLE, Channel, Event
from rcmedia.errors import ConfigError

CHANNEL_ID = re.compile(r"[-a-zA-Z0-9]+(\.[-a-zA-Z0-9]+)+")  # XMLTV::ValidateFile's rule
CATEGORY_LANG = "zh"  # the house category taxonomy is Chinese
NAME_LANG = "zh"  # channel display names
CHUNK = 256  # entries per yielded text chunk

# Everything XML 1.0 does not allow in a document (§2.2 Char), plus the non-characters U+FFFE/FFFF.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")
_ATTR_ENTITIES = {'"': "&quot;"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Translation:
    """An asset's title (and optionally sub-title and description) in another language."""

    lang: str
    title: str
    sub_title: str = ""
    description: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ProgrammeInfo:
    """Per-asset extras the events do not carry (from the catalog)."""

    description: str = ""
    categories: tuple[str, ...] = ()
    language: str = "zh"  # what the programme is spoken in; also the ``lang`` of its texts
    translations: tuple[Translation, ...] = ()
    first_run: bool = True  # never on television elsewhere (own production); False for acquired


DEFAULT_INFO = ProgrammeInfo()


def render_xmltv(
    channels: Sequence[Channel],
    guides: Mapping[str, Sequence[GuideEntry]],
    *,
    extra: Mapping[int, ProgrammeInfo] | None = None,
    generator: str = "rcmedia",
    generator_url: str = "",
    site_url: str = "",
) -> Iterator[str]:
    """The XMLTV document as text chunks, to be encoded as UTF-8 and written in order.

    ``guides`` maps a channel's ``id`` to its guide in the window wanted
    (:func:`rcmedia.core.guide.guide_entries`); keys of channels not in ``channels`` are ignored,
    and so are channels with no entry. ``extra`` maps an asset id to its :class:`ProgrammeInfo`.
    ``site_url`` (the origin, e.g. ``https://tv.example.cn``) adds each channel's watch page as
    ``<url>`` and makes a logo given as an absolute path (``/static/…``) a full URL.

    Channels are checked before the first chunk: an id XMLTV does not accept, two channels with
    the same id, or an unknown time zone raise :class:`ConfigError`.
    """
    ordered = sorted(channels, key=lambda c: c.xmltv_id)
    seen: set[str] = set()
    for channel in ordered:
        if not CHANNEL_ID.fullmatch(channel.xmltv_id):
            raise ConfigError(
                f"channel {channel.id!r}: xmltv_id {channel.xmltv_id!r} is not a valid XMLTV id "
                "(letters, digits and '-' in at least two parts joined by dots, e.g. 'rcxf.rcmedia')"
            )
        try:
            ZoneInfo(channel.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"channel {channel.id!r}: time zone {channel.timezone!r} is not an IANA zone (e.g. 'Asia/Shanghai')"
            ) from None
        if channel.xmltv_id in seen:
            raise ConfigError(f"channel {channel.id!r}: xmltv_id {channel.xmltv_id!r} is used twice")
        seen.add(channel.xmltv_id)
    return _document(ordered, guides, extra or {}, generator, generator_url, site_url.rstrip("/"))


def xmltv_time(when: datetime, zone: tzinfo) -> str:
    """``YYYYMMDDhhmmss +hhmm`` of an aware instant in ``zone`` (sub-seconds dropped, never rounded)."""
    # YYYY-MM-DDThh:mm:ss+hh:mm sliced: twice as fast as strftime, which shows in a week of listings
    iso = when.astimezone(zone).isoformat(timespec="seconds")
    return f"{iso[0:4]}{iso[5:7]}{iso[8:10]}{iso[11:13]}{iso[14:16]}{iso[17:19]} {iso[19:22]}{iso[23:25]}"


def xmltv_ns(episode: int) -> str | None:
    """The zero-based ``xmltv_ns`` form of a one-based episode number; season and part unknown."""
    return f".{episode - 1}." if episode >= 1 else None


def onscreen(episode: int) -> str:
    return f"第{episode}集"


def _document(
    channels: Sequence[Channel],
    guides: Mapping[str, Sequence[GuideEntry]],
    extra: Mapping[int, ProgrammeInfo],
    generator: str,
    generator_url: str,
    site_url: str,
) -> Iterator[str]:
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<!DOCTYPE tv SYSTEM "xmltv.dtd">\n',
        f"<tv generator-info-name={_attr(generator)}",
        f" generator-info-url={_attr(generator_url)}>\n" if generator_url else ">\n",
    ]
    listed: list[tuple[Channel, list[GuideEntry]]] = []
    for channel in channels:
        entries = sorted(guides.get(channel.id, ()), key=lambda e: e.start)
        if entries:
            listed.append((channel, entries))
    head.extend(_channel(channel, site_url) for channel, _ in listed)
    yield "".join(head)
    writer = _ProgrammeWriter(extra)
    for channel, entries in listed:
        writer.start_channel(channel)
        for first in range(0, len(entries), CHUNK):
            yield "".join(writer.programme(entry) for entry in entries[first : first + CHUNK])
    yield "</tv>\n"


def _channel(channel: Channel, site_url: str) -> str:
    parts = [
        f"  <channel id={_attr(channel.xmltv_id)}>\n",
        f'    <display-name lang="{NAME_LANG}">{_text(channel.name) or channel.xmltv_id}</display-name>\n',
    ]
    logo = channel.logo.strip()
    if logo:
        if logo.startswith("/") and not logo.startswith("//") and site_url:
            logo = site_url + logo
        parts.append(f"    <icon src={_attr(logo)}/>\n")
    if site_url:
        parts.append(f"    <url>{_text(f'{site_url}/watch/{channel.id}')}</url>\n")
    parts.append("  </channel>\n")
    return "".join(parts)


@dataclass(frozen=True, kw_only=True, slots=True)
class _InfoParts:
    """The escaped pieces of one asset's :class:`ProgrammeInfo`, made once per document."""

    lang: str  # quoted attribute value
    titles: str  # translated <title>s
    sub_titles: str  # translated <sub-title>s
    middle: str  # <desc>s, <category>s, <language>
    first_run: bool


def _info_parts(info: ProgrammeInfo) -> _InfoParts:
    lang = _attr(info.language)
    translations = [(_attr(t.lang), t) for t in info.translations]
    titles = "".join(
        f"    <title lang={tlang}>{text}</title>\n" for tlang, t in translations if (text := _text(t.title))
    )
    sub_titles = "".join(
        f"    <sub-title lang={tlang}>{text}</sub-title>\n"
        for tlang, t in translations
        if (text := _text(t.sub_title))
    )
    descriptions = [(lang, info.description), *((tlang, t.description) for tlang, t in translations)]
    middle = [
        f"    <desc lang={dlang}>{text}</desc>\n"
        for dlang, desc in descriptions
        if (text := _paragraph(desc))
    ]
    middle.extend(
        f'    <category lang="{CATEGORY_LANG}">{text}</category>\n'
        for category in info.categories
        if (text := _text(category))
    )
    if language := _text(info.language):
        middle.append(f"    <language>{language}</language>\n")
    return _InfoParts(
        lang=lang, titles=titles, sub_titles=sub_titles, middle="".join(middle), first_run=info.first_run
    )


class _ProgrammeWriter:
    """Writes ``<programme>`` elements, reusing what repeats across a week of listings.

    The same assets air again and again, and each programme's stop is usually the next one's
    start: each asset's texts and the last formatted time are kept for the document.
    """

    def __init__(self, extra: Mapping[int, ProgrammeInfo]) -> None:
        self._extra = extra
        self._infos: dict[int, _InfoParts] = {}
        self._bodies: dict[tuple[int, str, str | None, int | None], str] = {}
        self._zone: tzinfo = UTC
        self._channel_attr = ""
        self._interlude = DEFAULT_INTERLUDE_TITLE
        self._last: tuple[datetime, str] | None = None

    def start_channel(self, channel: Channel) -> None:
        self._zone = ZoneInfo(channel.timezone)
        self._channel_attr = _attr(channel.xmltv_id)
        self._interlude = _text(channel.interlude_title) or DEFAULT_INTERLUDE_TITLE
        self._last = None

    def _time(self, when: datetime) -> str:
        if self._last is not None and self._last[0] == when:
            return self._last[1]
        text = xmltv_time(when, self._zone)
        self._last = (when, text)
        return text

    def _info(self, asset_id: int) -> _InfoParts:
        parts = self._infos.get(asset_id)
        if parts is None:
            parts = self._infos[asset_id] = _info_parts(self._extra.get(asset_id, DEFAULT_INFO))
        return parts

    def programme(self, entry: GuideEntry) -> str:
        start = self._time(entry.start)
        stop = self._time(entry.stop)
        if start == stop:  # shorter than the second XMLTV can show: its neighbours meet instead
            return ""
        event = entry.programme
        head = f'  <programme start="{start}" stop="{stop}" channel={self._channel_attr}>\n'
        if event is None:
            return f'{head}    <title lang="{NAME_LANG}">{self._interlude}</title>\n  </programme>\n'
        parts = [head, self._body(event)]
        if event.previously_shown is not None:
            shown = xmltv_time(event.previously_shown, self._zone)
            parts.append(f'    <previously-shown start="{shown}"/>\n')
        if event.premiere:
            parts.append("    <premiere/>\n")
            if _is_new(event, self._info(event.asset_id).first_run):
                parts.append("    <new/>\n")
        parts.append("  </programme>\n")
        return "".join(parts)

    def _body(self, event: Event) -> str:
        """Title to episode-num: the same every time an asset airs, so made once per document."""
        key = (event.asset_id, event.title, event.series, event.episode)
        body = self._bodies.get(key)
        if body is not None:
            return body
        info = self._info(event.asset_id)
        lang = info.lang
        own_title = _text(event.title)
        series = _text(event.series) if event.series else ""
        title = series or own_title or f"#{event.asset_id}"
        parts = [f"    <title lang={lang}>{title}</title>\n", info.titles]
        if series and own_title and own_title != series:
            parts.append(f"    <sub-title lang={lang}>{own_title}</sub-title>\n")
        parts.append(info.sub_titles)
        parts.append(info.middle)
        if event.episode is not None:
            ns = xmltv_ns(event.episode)
            if ns is not None:
                parts.append(f'    <episode-num system="xmltv_ns">{ns}</episode-num>\n')
            parts.append(f'    <episode-num system="onscreen">{onscreen(event.episode)}</episode-num>\n')
        body = self._bodies[key] = "".join(parts)
        return body


def _is_new(event: Event, first_run: bool) -> bool:
    """The first screened programme of a show never on television before (DTD ``new``)."""
    return (
        event.premiere
        and event.previously_shown is None
        and event.series is not None
        and event.episode == 1
        and first_run
    )


def _clean(value: str) -> str:
    return _INVALID_XML.sub("", value)


def _text(value: str) -> str:
    """One line of escaped element text (XMLTV: no newlines except in ``desc``)."""
    return escape(_LINE_BREAKS.sub(" ", _clean(value)).strip())


def _paragraph(value: str) -> str:
    """Escaped ``desc`` text: line breaks allowed (normalised to ``\\n``), blank lines trimmed."""
    cleaned = _clean(value).replace("\r\n", "\n").replace("\r", "\n")
    return escape("\n".join(line.strip() for line in cleaned.strip().split("\n")))


def _attr(value: str) -> str:
    """A quoted, escaped attribute value (line breaks become spaces)."""
    return '"' + escape(_LINE_BREAKS.sub(" ", _clean(value)).strip(), _ATTR_ENTITIES) + '"'
