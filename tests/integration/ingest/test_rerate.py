"""Rates of published assets measured again from storage (assets from before issue 10's fix)."""

from __future__ import annotations

import math
from datetime import timedelta
from fractions import Fraction

from rcmedia.catalog.repository import Catalog
from rcmedia.ingest.rerate import rerate_asset, rerate_published
from rcmedia.storage.local import LocalStorage
from tests.integration.web.published import NOW, RUNG_FACTS, publish_fake_asset

# two 2 s segments and a one-frame tail: publish_fake_asset writes 2000, 2700 and 3400 bytes
DURATIONS = (2.0, 2.0, 0.04)
RUNGS = ("360p", "180p", "144p")
# the target is 2 s: runs of 1 to 3 s; the densest is the second segment with the tail
PEAK = math.ceil(Fraction((2700 + 3400) * 8, Fraction("2.04")))
AVERAGE = math.ceil(Fraction((2000 + 2700 + 3400) * 8, Fraction("4.04")))


def test_stored_rates_are_replaced_by_the_measured_ones(catalog: Catalog, storage: LocalStorage) -> None:
    published = publish_fake_asset(catalog, storage, seed=1, durations=DURATIONS)
    before = catalog.get_asset(published.asset_id)
    assert before.rendition("360p").bandwidth == RUNG_FACTS["360p"]["bandwidth"]  # type: ignore[union-attr]

    (rerated,) = rerate_published(catalog, storage, now=NOW + timedelta(days=1))

    assert rerated.asset_id == published.asset_id
    assert rerated.changed
    assert rerated.after == dict.fromkeys(RUNGS, (PEAK, AVERAGE))
    assert (PEAK, AVERAGE) == (23_922, 16_040)  # the tail alone: 680,000 bit/s
    after = catalog.get_asset(published.asset_id)
    assert {r.name: (r.bandwidth, r.average_bandwidth) for r in after.renditions} == rerated.after
    assert after.version > before.version  # live masters are loaded again

    again = rerate_asset(catalog, storage, published.asset_id, now=NOW + timedelta(days=2))
    assert not again.changed
    assert catalog.get_asset(published.asset_id).version == after.version


def test_a_dry_run_changes_nothing(catalog: Catalog, storage: LocalStorage) -> None:
    published = publish_fake_asset(catalog, storage, seed=2, durations=DURATIONS)
    before = catalog.get_asset(published.asset_id)

    rerated = rerate_asset(catalog, storage, published.asset_id, now=NOW, dry_run=True)

    assert rerated.changed
    assert catalog.get_asset(published.asset_id) == before
