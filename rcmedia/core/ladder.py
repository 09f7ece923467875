"""Which rungs a source gets, and how its picture sits in each 16:9 frame.

Pure geometry: a source is scaled to fit the rung's frame without stretching (4:3 is pillarboxed,
portrait is padded left and right, scope is letterboxed) and is never scaled up past its own
height; the lowest rung is kept even for a tiny source so that every asset has a rendition.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcmedia.core.models import Output
from rcmedia.core.profile import Profile, Rung


@dataclass(frozen=True, kw_only=True, slots=True)
class RungGeometry:
    rung: Rung
    content_width: int
    content_height: int
    pad_x: int
    pad_y: int

    @property
    def name(self) -> str:
        return self.rung.name


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def fit(rung: Rung, display_aspect: float) -> RungGeometry:
    """Scale a picture of ``display_aspect`` into the rung's frame, centred, never stretched."""
    if display_aspect >= rung.width / rung.height:
        width, height = rung.width, min(rung.height, _even(rung.width / display_aspect))
    else:
        width, height = min(rung.width, _even(rung.height * display_aspect)), rung.height
    pad_x = (rung.width - width) // 4 * 2  # even offsets keep 4:2:0 chroma aligned
    pad_y = (rung.height - height) // 4 * 2
    return RungGeometry(rung=rung, content_width=width, content_height=height, pad_x=pad_x, pad_y=pad_y)


def select_ladder(profile: Profile, *, height: int, display_aspect: float) -> tuple[RungGeometry, ...]:
    """The rungs whose picture would not be upscaled from a source ``height`` pixels tall."""
    fitted = [fit(rung, display_aspect) for rung in profile.rungs]
    kept = tuple(g for g in fitted if g.content_height <= height)
    return kept or (fitted[-1],)


def output_rungs(profile: Profile, present: tuple[str, ...], output: Output) -> tuple[str, ...]:
    """The renditions of an asset offered on ``output``: the output's rungs that the asset has.

    An asset smaller than every rung the output lists (a 360p lecture on the TV output) offers its
    best rendition instead, so that it can still be watched there.
    """
    wanted = profile.outputs[output]
    offered = tuple(name for name in present if name in wanted)
    if offered:
        return offered
    return present[:1]
