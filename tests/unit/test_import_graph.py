"""The package's dependency rules (STYLE.md, DESIGN.md), checked on the source so they cannot erode.

* no cycle between rcmedia's parts (``catalog``, ``service``, ``playout``, ``web``, …): each may
  import only the parts below it, counting imports inside functions too;
* the core is pure: the standard library, ``rcmedia.core`` and ``rcmedia.errors`` only;
* SQLAlchemy stays inside ``rcmedia.catalog``; nothing imports the command line but ``__main__``,
  nor the recurring jobs (``rcmedia.scheduling``, APScheduler's) but the command line.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import rcmedia

PACKAGE = Path(rcmedia.__file__).parent


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's own scripts
        name = ".".join(("rcmedia", *path.relative_to(PACKAGE).with_suffix("").parts))
        yield name.removesuffix(".__init__"), ast.parse(path.read_text(encoding="utf-8"), str(path))


def imported(name: str, tree: ast.Module) -> Iterator[str]:
    """Every module ``name`` imports, at any depth of the file."""
    package = name if name.count(".") == 0 else name.rsplit(".", 1)[0]
    if (PACKAGE / Path(*name.split(".")[1:]) / "__init__.py").exists():
        package = name
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            elif node.module:
                yield node.module


def part(module: str) -> str:
    """``rcmedia.web.app`` → ``web``; ``rcmedia.errors`` → ``errors``."""
    return module.split(".")[1] if module.count(".") else module


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for name, tree in modules():
        if name == "rcmedia.__main__":
            continue
        for target in imported(name, tree):
            if target.startswith("rcmedia.") and part(target) != part(name):
                edges.setdefault(part(name), set()).add(part(target))
    return edges


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``edges``, if there is any."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_parts_of_rcmedia_import_each_other_without_a_cycle() -> None:
    assert cycle(graph()) is None, " → ".join(cycle(graph()) or [])


def test_the_cycle_finder_finds_cycles() -> None:  # the check above must be able to fail
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None


@pytest.mark.parametrize(
    ("part_name", "may_import"),
    [
        pytest.param("core", {"core", "errors"}, id="core-is-pure"),
        pytest.param("service", {"catalog", "core", "errors", "service"}, id="service-below-its-callers"),
    ],
)
def test_what_a_part_may_import(part_name: str, may_import: set[str]) -> None:
    wrong = {
        f"{name} imports {target}"
        for name, tree in modules()
        if part(name) == part_name
        for target in imported(name, tree)
        if (target.startswith("rcmedia.") and part(target) not in may_import)
        or (
            part_name == "core"
            and not target.startswith("rcmedia")
            and target.split(".")[0] not in sys.stdlib_module_names
        )
    }
    assert not wrong, sorted(wrong)


def test_sqlalchemy_stays_inside_the_catalog_and_only_entry_points_import_the_cli_and_the_jobs() -> None:
    wrong = set()
    for name, tree in modules():
        for target in imported(name, tree):
            if target.startswith("rcmedia.scheduling") and part(name) not in ("scheduling", "cli"):
                wrong.add(f"{name} imports {target}")  # the APScheduler jobs are wired by the CLI only
            if target.split(".")[0] == "sqlalchemy" and part(name) != "catalog":
                wrong.add(f"{name} imports {target}")
            if target.startswith("rcmedia.cli") and part(name) != "cli" and name != "rcmedia.__main__":
                wrong.add(f"{name} imports {target}")
    assert not wrong, sorted(wrong)


def test_boto3_is_imported_by_the_s3_storage_only() -> None:
    wrong = {
        f"{name} imports {target}"
        for name, tree in modules()
        for target in imported(name, tree)
        if target.split(".")[0] in ("boto3", "botocore") and name != "rcmedia.storage.s3"
    }
    assert not wrong, sorted(wrong)
    importers = {name for name, tree in modules() for t in imported(name, tree) if t.startswith("boto3")}
    assert importers == {"rcmedia.storage.s3"}  # the check looks where boto3 is


def test_celery_is_imported_by_the_celery_adapter_only() -> None:
    wrong = {
        f"{name} imports {target}"
        for name, tree in modules()
        for target in imported(name, tree)
        if target.split(".")[0] in ("celery", "kombu", "billiard", "amqp", "redis")
        and name != "rcmedia.ingest.celery_tasks"
    }
    assert not wrong, sorted(wrong)
    importers = {name for name, tree in modules() for t in imported(name, tree) if t.startswith("celery")}
    assert importers == {"rcmedia.ingest.celery_tasks"}  # the check looks where celery is
