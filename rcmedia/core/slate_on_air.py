"""How much of a stretch of a live timeline goes out as the house slate (pure).

Unlike :mod:`rcmedia.core.slate_share` (the dashboard's share of *planned* slate, from built
events), this reads the timeline as it airs: programmes whose asset became unavailable and events
without a usable segment table are slate too, and so is the loop after the last built event.
"""

from __future__ import annotations

from rcmedia.core.timeline import Timeline


def slate_on_air(timeline: Timeline, start_us: int, end_us: int) -> float:
    """The share (0…1) of [start_us, end_us) aired as slate: events of the slate itself, events
    whose asset is unavailable (from when it became so) or has no usable segment table, and the
    slate loop after the last event. Before the timeline's start nothing is known (not slate)."""
    if end_us <= start_us:
        return 0.0
    slate_us = max(0, end_us - max(start_us, timeline.end_us))
    slate_id = timeline.slate.asset_id
    bounds = timeline.bounds
    for number in range(timeline.count):
        event_start, event_end = bounds[number], bounds[number + 1]
        if event_end <= start_us or event_start >= end_us:
            continue
        asset_id = timeline.asset_ids[number]
        from_us = event_start
        if asset_id == slate_id or number in timeline.forced:
            pass
        elif asset_id in timeline.unavailable:
            from_us = max(event_start, timeline.unavailable[asset_id])
        else:
            continue
        slate_us += max(0, min(event_end, end_us) - max(from_us, start_us))
    return slate_us / (end_us - start_us)
