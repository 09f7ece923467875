"""Catalog search (rcmedia.catalog.search) on SQLite and PostgreSQL: results and their order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import insert

from rcmedia.catalog.db import alembic_config, upgrade
from rcmedia.catalog.repository import AssetQuery, Catalog
from rcmedia.catalog.search import term_rows
from rcmedia.catalog.tables import AssetRow
from rcmedia.core.changes import MetadataChange
from rcmedia.core.models import AssetMetadata, AssetStatus, Source

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def ingest(catalog: Catalog, title: str, *, series: str | None = None, description: str = "") -> int:
    asset_id, _ = catalog.create_ingest(
        AssetMetadata(title=title, series=series, description=description, source=Source.CENTRAL),
        original_filename="course.mxf",
        source_path="/srv/ingest/course.mxf",
        profile="default",
        max_attempts=3,
        now=NOW,
    )
    return asset_id


@pytest.fixture
def courses(any_catalog: Catalog) -> dict[str, int]:
    """Courses by a short name, in id order: the search's ranking is field first, then id."""
    return {
        "in_description": ingest(any_catalog, "基层治理讲座", description="本讲围绕党建工作展开。"),
        "in_series": ingest(any_catalog, "第三讲 组织生活", series="党建十讲"),
        "in_title": ingest(any_catalog, "党建引领基层治理", description="党建与治理"),
        "long_march": ingest(any_catalog, "重走长征路：红军精神的当代传承"),
        "python": ingest(any_catalog, "Python 编程入门", description="面向初学者"),
        "pythonic": ingest(any_catalog, "写出 Pythonic 的代码"),
        "unrelated": ingest(any_catalog, "城市交通安全", description="出行须知"),
    }


def found(catalog: Catalog, text: str, **filters: object) -> list[int]:
    return [asset.id for asset in catalog.find_assets(AssetQuery(text=text, **filters)).items]  # type: ignore[arg-type]


def test_a_two_character_word_is_found_in_every_field_title_matches_first(
    any_catalog: Catalog, courses: dict[str, int]
) -> None:
    assert found(any_catalog, "党建") == [
        courses["in_title"],
        courses["in_series"],
        courses["in_description"],
    ]
    assert any_catalog.find_assets(AssetQuery(text="党建")).total == 3


def test_a_word_inside_a_longer_title(any_catalog: Catalog, courses: dict[str, int]) -> None:
    assert found(any_catalog, "长征") == [courses["long_march"]]
    assert found(any_catalog, "精神") == [courses["long_march"]]
    assert found(any_catalog, "长征路") == [courses["long_march"]]
    assert found(any_catalog, "征") == [courses["long_march"]]  # one character


@pytest.mark.parametrize("text", ["Python", "python", "PYTHON", "ｐｙｔｈｏｎ"])
def test_a_latin_word_in_any_case(any_catalog: Catalog, courses: dict[str, int], text: str) -> None:
    assert found(any_catalog, text) == [courses["python"]]  # a whole word: not "Pythonic"


def test_every_term_must_match_in_one_field(any_catalog: Catalog, courses: dict[str, int]) -> None:
    assert found(any_catalog, "python 入门") == [courses["python"]]
    assert found(any_catalog, "python 初学者") == []  # the title has one, the description the other
    assert found(any_catalog, "党建 长征") == []


@pytest.mark.parametrize("text", ["", "  ", "!?", "——《》"])
def test_a_query_with_nothing_to_search_lists_everything(
    any_catalog: Catalog, courses: dict[str, int], text: str
) -> None:
    page = any_catalog.find_assets(AssetQuery(text=text))
    assert [asset.id for asset in page.items] == sorted(courses.values())
    assert page.total == len(courses)


def test_filters_and_pages_apply_to_the_ranked_matches(any_catalog: Catalog, courses: dict[str, int]) -> None:
    page = any_catalog.find_assets(AssetQuery(text="党建", limit=1, offset=1))
    assert ([a.id for a in page.items], page.total) == ([courses["in_series"]], 3)
    assert found(any_catalog, "党建", series="党建十讲") == [courses["in_series"]]
    assert found(any_catalog, "党建", status=AssetStatus.PUBLISHED) == []
    assert found(any_catalog, "党建", source=Source.CENTRAL) == found(any_catalog, "党建")


def test_a_title_change_re_indexes(any_catalog: Catalog, courses: dict[str, int]) -> None:
    asset_id = courses["long_march"]
    any_catalog.update_metadata(asset_id, MetadataChange(title="延安精神专题"), now=NOW)

    assert found(any_catalog, "长征") == []
    assert found(any_catalog, "延安") == [asset_id]
    any_catalog.update_metadata(asset_id, MetadataChange(description="长征的故事"), now=NOW)
    assert found(any_catalog, "长征") == [asset_id]
    any_catalog.update_metadata(asset_id, MetadataChange(series="红色记忆"), now=NOW)
    assert found(any_catalog, "红色") == [asset_id]
    any_catalog.update_metadata(asset_id, MetadataChange(series=None), now=NOW)
    assert found(any_catalog, "红色") == []


def test_the_migration_indexes_the_assets_already_there(any_catalog: Catalog) -> None:
    config = alembic_config(any_catalog.engine)
    with any_catalog.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
        result = connection.execute(
            insert(AssetRow).returning(AssetRow.id),
            [
                {
                    "title": title,
                    "series": None,
                    "source": "central",
                    "language": "zh",
                    "description": description,
                    "categories": [],
                    "original_filename": "old.mxf",
                    "profile": "default",
                    "status": "published",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for title, description in [("党建引领发展", ""), ("长征故事", "党建")]
            ],
        )
        first, second = sorted(result.scalars())
    upgrade(any_catalog.engine)

    assert found(any_catalog, "党建") == [first, second]
    assert found(any_catalog, "长征") == [second]


def test_the_best_field_migration_flags_the_postings_already_there(
    any_catalog: Catalog, courses: dict[str, int]
) -> None:
    # 0009 adds asset_terms.best (a one-term search reads only those postings) and backfills it
    config = alembic_config(any_catalog.engine)
    with any_catalog.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    upgrade(any_catalog.engine)

    assert found(any_catalog, "党建") == [
        courses["in_title"],
        courses["in_series"],
        courses["in_description"],
    ]
    assert any_catalog.find_assets(AssetQuery(text="党建")).total == 3  # in_title's two postings: once
    assert found(any_catalog, "治理") == [courses["in_description"], courses["in_title"]]


def test_a_posting_is_best_only_in_the_best_field_that_has_its_term() -> None:
    rows = term_rows(7, {"title": "党建引领", "series": None, "description": "党建与引领"})
    best = {(row["term"], row["field"]) for row in rows if row["best"]}
    in_title = {(term, 0) for term in ("党", "党建", "建", "建引", "引", "引领", "领")}
    assert best == in_title | {("与", 2), ("与引", 2), ("建与", 2)}
    assert len(best) == len({row["term"] for row in rows})  # every term once


def reference(titles: list[tuple[int, str, str | None, str]], text: str) -> list[int]:
    """The search by its definition, in Python: the ids whose fields hold every query term, by the
    best such field, then id (what the SQL ranks and pages)."""
    from rcmedia.core.search_terms import index_terms, query_terms

    wanted = query_terms(text)
    ranked = []
    for asset_id, title, series, description in titles:
        fields = (title, series or "", description, "course.mxf")
        ranks = [rank for rank, field in enumerate(fields) if wanted <= index_terms(field)]
        if ranks:
            ranked.append((min(ranks), asset_id))
    return [asset_id for _, asset_id in sorted(ranked)]


def test_many_matches_rank_and_page_as_the_reference(any_catalog: Catalog) -> None:
    """Sixty courses where common terms hit most of them in several fields: every page of every
    query is the reference's slice, the count its length; a two-character word is found inside
    longer text and nowhere it is not a substring."""
    words = ["党建引领", "长征精神", "乡村振兴", "Python 入门", "党史学习", "精神文明"]
    catalog_rows = []
    for n in range(60):
        title = f"{words[n % 6]}第{n}讲"
        series = f"{words[(n * 7) % 6]}系列" if n % 3 else None
        description = f"本讲结合{words[(n * 5 + 1) % 6]}与{words[(n + 2) % 6]}展开"
        catalog_rows.append(
            (ingest(any_catalog, title, series=series, description=description), title, series, description)
        )

    for text in ["党", "党建", "精神", "长征精神", "python", "入门 Python", "第1", "讲", "振兴 党建", "量子"]:
        expected = reference(catalog_rows, text)
        for offset in (0, 7, 21, len(expected), len(expected) + 5):
            page = any_catalog.find_assets(AssetQuery(text=text, limit=7, offset=offset))
            assert page.total == len(expected), text
            assert [a.id for a in page.items] == expected[offset : offset + 7], (text, offset)
    assert len(reference(catalog_rows, "党")) > 40  # a common term: several fields, many assets
    by_id = {row[0]: row for row in catalog_rows}
    for word in ("党建", "精神", "长征"):
        hits = set(found(any_catalog, word, limit=200))
        assert hits == {i for i, *fields in catalog_rows if any(word in (f or "") for f in fields)}
        assert all(word in "".join(f or "" for f in by_id[i][1:]) for i in hits)
