"""Bit rates of a media playlist, as a master playlist advertises them (pure, integer microseconds).

RFC 8216bis §4.4.6.2: BANDWIDTH is the peak segment bit rate, "the largest bit rate of any
contiguous set of segments whose total duration is between 0.5 and 1.5 times the target
duration"; AVERAGE-BANDWIDTH is all bits over all seconds. The peak is over runs, not single
segments: a one-frame tail segment (40 ms holding a 10 KB key frame) alone would claim 2 Mbit/s on
a 60 kbit/s rung, every rung of a ladder would claim about the same, and a player could no longer
rank them (issue 10: the live master advertised BANDWIDTH=2068000 on all four rungs).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

_US = 1_000_000


def average_bit_rate(sizes: Sequence[int], durations_us: Sequence[int]) -> int:
    """All bits over all seconds, in bit/s, rounded up (0 for nothing, or nothing that lasts)."""
    total_us = sum(durations_us)
    if total_us <= 0:
        return 0
    return _ceil_div(sum(sizes) * 8 * _US, total_us)


def peak_bit_rate(sizes: Sequence[int], durations_us: Sequence[int], target_us: int) -> int:
    """The largest bit rate, in bit/s rounded up, of any run of consecutive segments lasting
    0.5 to 1.5 times ``target_us`` (both ends included).

    ``sizes`` in bytes and ``durations_us`` of the same segments, in playlist order. When no run
    qualifies (an asset shorter than half the target duration), the whole asset's average rate.

    The answer is exact: the smallest whole bit/s ``r`` such that no qualifying run holds more than
    ``r`` bits a second. Whether some run is heavier than ``r`` is one pass with a sliding minimum
    of prefix sums (see :func:`_some_run_above`); ``r`` is searched by halving between 0 and the
    densest single segment, which bounds every run. O(n log R) for R that densest rate.
    """
    if len(sizes) != len(durations_us):
        raise ValueError(f"{len(sizes)} segment sizes for {len(durations_us)} durations")
    if any(d <= 0 for d in durations_us):
        raise ValueError("every segment must last longer than zero")
    if target_us <= 0:
        raise ValueError(f"the target duration must be positive, not {target_us} µs")
    shortest, longest = (target_us + 1) // 2, target_us * 3 // 2
    if sum(durations_us) < shortest:
        return average_bit_rate(sizes, durations_us)
    bits = [0]
    ends = [0]
    for size, duration in zip(sizes, durations_us, strict=True):
        bits.append(bits[-1] + size * 8 * _US)  # bit·µs/s: rates compare as bits·10⁶ against r·µs
        ends.append(ends[-1] + duration)
    low = 0
    high = max(
        _ceil_div(size * 8 * _US, duration) for size, duration in zip(sizes, durations_us, strict=True)
    )
    if not _some_run_above(-1, bits, ends, shortest, longest):
        # no run qualifies (segments longer than 1.5 target durations: never written here)
        return average_bit_rate(sizes, durations_us)
    while low < high:  # no run is heavier than `high`; some run is heavier than every r < `low`
        middle = (low + high) // 2
        if _some_run_above(middle, bits, ends, shortest, longest):
            low = middle + 1
        else:
            high = middle
    return low


def _some_run_above(rate: int, bits: Sequence[int], ends: Sequence[int], shortest: int, longest: int) -> bool:
    """Whether a run of ``shortest``..``longest`` µs holds more than ``rate`` bit/s.

    With ``value[k] = bits[k] - rate * ends[k]`` over the prefix sums, run (i, j] is heavier than
    ``rate`` when ``value[j] > value[i]``; the starts ``i`` that fit before end ``j`` form a window
    that only moves forward, so the smallest value among them is kept in a monotone deque.
    """
    window: deque[int] = deque()  # start indexes, their values increasing
    added = 0  # the next start index to consider
    for j in range(1, len(ends)):
        # starts whose run to j lasts at least `shortest` join the window
        while added < j and ends[j] - ends[added] >= shortest:
            value = bits[added] - rate * ends[added]
            while window and bits[window[-1]] - rate * ends[window[-1]] >= value:
                window.pop()
            window.append(added)
            added += 1
        # starts whose run to j lasts longer than `longest` leave it
        while window and ends[j] - ends[window[0]] > longest:
            window.popleft()
        if window and bits[j] - rate * ends[j] > bits[window[0]] - rate * ends[window[0]]:
            return True
    return False


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def playlist_rates(
    sizes: Sequence[int], durations_s: Sequence[float], target_duration_s: int
) -> tuple[int, int]:
    """(BANDWIDTH, AVERAGE-BANDWIDTH) of a media playlist's segments: sizes in bytes, durations
    in seconds as EXTINF gives them (millisecond precision at best; each counted as at least 1 µs)."""
    durations_us = [max(round(d * 1_000_000), 1) for d in durations_s]
    return peak_bit_rate(sizes, durations_us, target_duration_s * 1_000_000), average_bit_rate(
        sizes, durations_us
    )
