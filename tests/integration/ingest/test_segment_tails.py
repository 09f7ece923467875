"""No tiny tails: a remainder under a second is merged into the last segments at packaging (issue 10).

Read back independently (m3u8 and ffmpeg's decoder): the EXTINFs, and a keyframe opening every
segment, so the muxer really cut where the plan says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rcmedia.core.models import JobState
from rcmedia.ingest.context import IngestContext
from rcmedia.media.samples import make_clip
from tests.integration.ingest.conftest import IngestMany
from tests.integration.ingest.reading import first_frame_is_key, media_playlist, video_frames


@pytest.mark.parametrize(
    ("seconds", "profile", "durations"),
    [
        # 2 s segments (the tiny profile): a 0.04 s tail joins the last segment (2.04 s rounds to 2)
        pytest.param(4.04, "tiny", (2.0, 2.04), id="one-frame-joins"),
        # 0.6 s is shared by the last two (2.28 + 2.32 s): each rounds to 2
        pytest.param(4.6, "tiny", (2.28, 2.32), id="shared-by-two"),
        pytest.param(4.6, "tiny_fmp4", (2.28, 2.32), id="shared-by-two-fmp4"),
        # one full segment to share 0.8 s with: two of 1.4 s
        pytest.param(2.8, "tiny", (1.4, 1.4), id="halves"),
        # a tail of a second or more stays as it is
        pytest.param(5.2, "tiny", (2.0, 2.0, 1.2), id="long-tail-stays"),
    ],
)
def test_no_segment_under_a_second(
    seconds: float,
    profile: str,
    durations: tuple[float, ...],
    tmp_path: Path,
    ingest_ctx: IngestContext,
    ingest_many: IngestMany,
    ffmpeg: str,
) -> None:
    source = make_clip(tmp_path / "small.mp4", ffmpeg=ffmpeg, duration=seconds, width=160, height=90)
    (job,) = ingest_many([source], profile=profile)
    assert job.state is JobState.PUBLISHED, job.failure_reason
    asset = ingest_ctx.catalog.get_asset(job.asset_id)
    (rendition,) = asset.renditions
    folder = Path(ingest_ctx.settings.storage) / str(asset.storage_prefix) / rendition.name
    playlist = media_playlist(folder / "index.m3u8")
    assert [round(s.duration, 2) for s in playlist.segments] == list(durations)
    assert all(round(s.duration) <= 2 for s in playlist.segments)  # RFC 8216 §4.3.3.1
    assert list(rendition.segment_durations) == pytest.approx(durations, abs=1e-6)
    init = folder / "init.mp4"
    for index, segment in enumerate(playlist.segments):
        path = folder / segment.uri
        if init.exists():
            path = tmp_path / f"{index}.mp4"
            path.write_bytes(init.read_bytes() + (folder / segment.uri).read_bytes())
        assert first_frame_is_key(ffmpeg, path), segment.uri
    assert len(video_frames(ffmpeg, folder / "index.m3u8")) == round(seconds * 25)
