"""Catalog search benchmark: 20,000 courses on SQLite and PostgreSQL, the term index against the
old ``icontains`` scan, in the same run.

Generates a catalog of Chinese courses (central, provincial and city sources; titles, series and
descriptions from a seeded vocabulary, a few Latin words among them), loads it into a SQLite
file in a temporary folder and into a fresh schema of PostgreSQL's ``test`` database on
127.0.0.1 (dropped afterwards), and times what ``GET /api/v1/assets?q=`` does without the
socket: ``Catalog.find_assets`` (the function the handler calls, a page of 50 as the API asks)
and the JSON document the handler renders from it. ~240 queries: two- and four-character
Chinese words (党建, 长征 among them), single characters, Latin words, words found nowhere, and
common terms (thousands of hits) at deep pages. Each runs ``--repeat`` times after one warm-up:
p50 and p99 over every run, and p99 over each query's fastest run (its cost when no other
process takes the CPU: on a busy machine the rest is mostly waiting). The old search
(``icontains`` on the title and file name: a scan) runs the same queries for the ratio.
Goal (issue 12): p99 ≤ 20 ms on both databases.

Usage: .venv/bin/python bench/catalog.py [--assets 20000] [--repeat 5] [--no-postgres]
         [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, or_, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402

from rcmedia.catalog.db import make_engine, upgrade  # noqa: E402
from rcmedia.catalog.repository import AssetQuery, Catalog  # noqa: E402
from rcmedia.catalog.search import index_all  # noqa: E402
from rcmedia.catalog.tables import AssetRow  # noqa: E402
from rcmedia.web.documents import asset_document, page_document  # noqa: E402

START = datetime(2024, 1, 1, tzinfo=UTC)

ISSUERS = {
    "central": ["中央党校", "国家行政学院", "全国干部培训网", "中国延安干部学院", "中国井冈山干部学院"],
    "provincial": ["省委党校", "省干部网络学院", "省委组织部", "省人社厅", "省应急管理厅"],
    "city": ["市委党校", "市干部在线学习", "市卫健委", "市教育局", "市融媒体中心"],
}
THEMES = [
    "党建引领基层治理",
    "长征精神",
    "延安精神",
    "乡村振兴",
    "共同富裕",
    "高质量发展",
    "新发展理念",
    "全面从严治党",
    "法治政府建设",
    "生态文明建设",
    "数字政府",
    "营商环境优化",
    "安全生产",
    "应急管理",
    "公共卫生",
    "文化自信",
    "科技创新",
    "人工智能",
    "城市更新",
    "社会保障",
    "民法典解读",
    "统计工作",
    "档案管理",
    "保密教育",
    "廉政教育",
    "红色家书",
    "党史学习",
    "改革开放史",
    "新中国史",
    "社会主义发展史",
]
LATIN = ["Python", "Excel", "AI", "PPT", "GIS", "5G", "ChatGPT", "WPS", "SQL", "Linux"]
KINDS = ["专题讲座", "案例教学", "理论辅导", "实践课", "微课", "公开课", "研讨", "访谈", "导论"]
PHRASES = [
    "本课程围绕",
    "系统讲解",
    "结合典型案例",
    "深入阐释",
    "帮助学员掌握",
    "面向基层干部",
    "梳理历史脉络",
    "分析实践路径",
    "提出工作方法",
    "回答热点问题",
    "总结经验做法",
    "展望未来发展",
]
NO_HITS = ["量子", "航天", "麒麟", "敦煌", "昆曲", "冰川", "珊瑚", "火山", "沙漠", "极光"]
NO_HITS_LATIN = ["xyzzy", "Fortran", "COBOL", "Haskell", "quasar", "Zebra", "Kotlin", "Rust", "Erlang", "Ada"]


def course(rng: random.Random, n: int) -> dict[str, object]:
    source = rng.choice(list(ISSUERS))
    issuer = rng.choice(ISSUERS[source])
    theme = rng.choice(THEMES)
    other = rng.choice(THEMES)
    kind = rng.choice(KINDS)
    latin = rng.choice(LATIN) if rng.random() < 0.12 else ""
    title = f"{theme}{kind}（第{rng.randint(1, 30)}讲）" if not latin else f"{latin}在{theme}中的应用"
    if rng.random() < 0.3:
        title = f"{other}与{title}"
    phrases = rng.sample(PHRASES, 4)
    description = f"{phrases[0]}{theme}，{phrases[1]}，{phrases[2]}{other}，{phrases[3]}。"
    created = START + timedelta(minutes=37 * n)
    return {
        "title": title[:500],
        "series": f"{issuer}·{theme}系列" if rng.random() < 0.7 else None,
        "episode": rng.randint(1, 30),
        "source": source,
        "language": "zh",
        "description": description,
        "categories": [],
        "original_filename": f"{source}_{n:06d}.mp4",
        "profile": "default",
        "status": "published" if rng.random() < 0.9 else "withdrawn",
        "created_at": created,
        "updated_at": created,
        "published_at": created,
    }


def queries(rng: random.Random) -> list[tuple[str, str, int]]:
    """~240 (kind, text, offset): two- and four-character Chinese words, single characters, Latin
    words, words found nowhere, and common terms paged deep."""
    words = sorted({t[i : i + 2] for t in THEMES for i in range(0, len(t) - 1, 2)})
    fours = sorted({t[:4] for t in THEMES} | {t[-4:] for t in THEMES} | {t[2:6] for t in THEMES})
    found: list[tuple[str, str]] = [("2-char", w) for w in rng.sample(words, min(70, len(words)))]
    found += [("4-char", w) for w in rng.sample(fours, min(70, len(fours)))]
    found += [("latin", w if i % 2 else w.upper()) for i, w in enumerate(LATIN * 4)]
    found += [("no-hit", w) for w in NO_HITS + NO_HITS_LATIN]
    found += [("2-char", "党建"), ("2-char", "长征")]
    chars = sorted({c for t in THEMES for c in t})
    found += [("1-char", c) for c in rng.sample(chars, 30)]
    paged = [(kind, q, 0) for kind, q in found]
    # common terms, each on several hundred to several thousand assets, at deep pages
    common = ["党", "精神", "建设", "发展", "课", "讲", "中央党校", "治理"]
    paged += [("common+paging", q, offset) for q in common for offset in (0, 50, 500, 2000)]
    return paged


def load(engine: Engine, count: int) -> float:
    """Fills a migrated catalog; returns the seconds the term index took to build."""
    rng = random.Random(12)
    with engine.begin() as connection:
        rows = [course(rng, n) for n in range(count)]
        for i in range(0, count, 2000):
            connection.execute(insert(AssetRow), rows[i : i + 2000])
    started = time.perf_counter()
    with engine.begin() as connection:
        index_all(connection)
    took = time.perf_counter() - started
    # What autovacuum (PostgreSQL) or an operator's PRAGMA optimize (SQLite) does after a bulk
    # load: statistics for the planner, and PostgreSQL's visibility map for index-only scans.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
        if engine.dialect.name == "postgresql":
            # the bulk load's 2 million dirty rows written out now, not by a checkpoint in the
            # middle of the measurement (a catalog in service is not freshly loaded); needs a
            # superuser or pg_checkpoint, else the numbers may include that checkpoint
            try:
                connection.execute(text("CHECKPOINT"))
            except DBAPIError as exc:
                print(f"note: no CHECKPOINT after the load ({exc.orig})", file=sys.stderr)
    return took


def old_find(engine: Engine, query: AssetQuery) -> tuple[int, int]:
    """The search as it was before the term index (issue 12): icontains on title and file name."""
    assert query.text is not None
    conditions = [
        or_(
            AssetRow.title.icontains(query.text, autoescape=True),
            AssetRow.original_filename.icontains(query.text, autoescape=True),
        )
    ]
    with Session(engine) as session:
        total = session.scalar(select(func.count(AssetRow.id)).where(*conditions)) or 0
        rows = session.scalars(
            select(AssetRow)
            .where(*conditions)
            .options(selectinload(AssetRow.rights), selectinload(AssetRow.renditions))
            .order_by(AssetRow.id)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
        return total, len(rows)


def timings(run: Callable[[AssetQuery], object], asked: list[AssetQuery], repeat: int) -> list[list[float]]:
    """Milliseconds per query, ``repeat`` runs each (after one warm-up run of every query)."""
    for q in asked:
        run(q)  # warm-up: connections, statement caches, pages in memory
    samples: list[list[float]] = [[] for _ in asked]
    for _ in range(repeat):
        for i, q in enumerate(asked):
            started = time.perf_counter()
            run(q)
            samples[i].append((time.perf_counter() - started) * 1000)
    return samples


def every(samples: list[list[float]]) -> list[float]:
    return [ms for runs in samples for ms in runs]


def best(samples: list[list[float]]) -> list[float]:
    """Each query's fastest run: its cost without another process taking the CPU meanwhile."""
    return [min(runs) for runs in samples]


def p(samples: list[float], percent: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[percent - 1]


def measure(name: str, engine: Engine, count: int, repeat: int) -> list[str]:
    started = time.perf_counter()
    upgrade(engine)
    index_seconds = load(engine, count)
    loaded = time.perf_counter() - started
    catalog = Catalog(engine)
    with engine.connect() as connection:
        terms = connection.scalar(text("SELECT count(*) FROM asset_terms"))
    print(f"{name}: {count} assets loaded in {loaded:.1f} s (index {index_seconds:.1f} s, {terms} terms)")
    asked = [AssetQuery(text=q, offset=offset) for _, q, offset in queries(random.Random(7))]
    kinds = [kind for kind, _, _ in queries(random.Random(7))]

    def api(query: AssetQuery) -> bytes:
        """The handler's work without the socket: find, then the JSON document it answers."""
        page = catalog.find_assets(query)
        return json.dumps(page_document(page, asset_document), ensure_ascii=False).encode()

    new = timings(api, asked, repeat)
    old = timings(lambda q: old_find(engine, q), asked, repeat)
    hits = [catalog.find_assets(AssetQuery(text=q.text, limit=1)).total for q in asked]
    lines = []
    for kind in ("2-char", "4-char", "1-char", "latin", "no-hit", "common+paging", "all"):
        chosen = [i for i, k in enumerate(kinds) if kind in ("all", k)]
        n, o = [new[i] for i in chosen], [old[i] for i in chosen]
        lines.append(
            f"| {name} | {kind} | {len(chosen)} | {statistics.median(hits[i] for i in chosen):.0f} "
            f"| {p(every(n), 50):.2f} | {p(every(n), 99):.2f} | {p(best(n), 99):.2f} "
            f"| {p(every(o), 50):.2f} | {p(every(o), 99):.2f} | {p(every(o), 50) / p(every(n), 50):.1f}× "
            f"| {p(every(o), 99) / p(every(n), 99):.1f}× |"
        )
    for probe in ("党建", "长征"):
        top = catalog.find_assets(AssetQuery(text=probe, limit=3))
        print(f"  {probe!r}: {top.total} found; first: {[a.metadata.title for a in top.items]}")
    return lines


@contextmanager
def postgres_schema(url: str) -> Iterator[Engine]:
    """An engine on a fresh schema of the database at ``url``, dropped (with everything in it) after."""
    schema = f"rcmedia_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f'SET search_path TO "{schema}"')
        cursor.close()
        dbapi_connection.commit()

    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"load average at the start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    lines = [
        "| database | queries | n | median hits | API p50 ms | API p99 ms | API p99 best-of-runs ms "
        "| scan p50 ms | scan p99 ms | p50 scan/API | p99 scan/API |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="rcmedia-bench-") as folder:
        engine = make_engine(f"sqlite:///{folder}/catalog.db")
        try:
            lines += measure("SQLite", engine, args.assets, args.repeat)
        finally:
            engine.dispose()
    if not args.no_postgres:
        with postgres_schema(args.postgres) as engine:
            lines += measure("PostgreSQL", engine, args.assets, args.repeat)
    print("\n".join(lines))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
