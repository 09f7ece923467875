"""The storage contract (``rcmedia.storage.base.Storage``), run on every backend via ``any_storage``
(local disk and S3 through moto's server).

The symlink tests at the end are for local disk only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from rcmedia.errors import StorageError, UnsafePathError
from rcmedia.storage.base import Storage
from rcmedia.storage.local import LocalStorage

PACKAGE: dict[str, bytes] = {
    "master.m3u8": "#EXTM3U\n# 第1课\n".encode(),
    "720p/index.m3u8": b"#EXTM3U\n#EXT-X-VERSION:7\n",
    "720p/init.mp4": b"\x00\x00\x00\x18ftypiso6",
    "720p/seg_00001.m4s": bytes(range(256)) * 40,
    "360p/index.m3u8": b"#EXTM3U\n#EXT-X-VERSION:3\n",
    "360p/seg_00001.ts": b"\x47" + bytes(187),
}


def stage(storage: Storage, name: str, files: dict[str, bytes]) -> Path:
    folder = storage.staging_dir(name)
    for relative, data in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def publish(storage: Storage, prefix: str, files: dict[str, bytes] = PACKAGE) -> None:
    storage.publish(stage(storage, f"stage-{prefix.replace('/', '-')}", files), prefix)


def contents(storage: Storage, prefix: str, files: dict[str, bytes] = PACKAGE) -> dict[str, bytes]:
    """What the store holds at the keys of ``files`` under ``prefix`` (absent keys left out)."""
    keys = (f"{prefix}/{relative}" for relative in files)
    return {key.removeprefix(f"{prefix}/"): storage.read_bytes(key) for key in keys if storage.exists(key)}


# --- staging ---------------------------------------------------------------------------------


def test_staging_dir_is_a_fresh_empty_folder(any_storage: Storage) -> None:
    folder = any_storage.staging_dir("job-1-1")
    assert folder.is_dir()
    assert list(folder.iterdir()) == []

    (folder / "720p").mkdir()
    (folder / "720p" / "seg_00001.ts").write_bytes(b"left by a killed attempt")
    other = stage(any_storage, "job-2-1", {"a.ts": b"a"})

    again = any_storage.staging_dir("job-1-1")

    assert again.is_dir()
    assert list(again.iterdir()) == []  # recreated: nothing of the earlier attempt is left
    assert other != again
    assert (other / "a.ts").read_bytes() == b"a"  # another job's staging is untouched


def test_staged_files_are_not_in_the_store(any_storage: Storage) -> None:
    stage(any_storage, "job-1-1", PACKAGE)
    assert not any_storage.exists("job-1-1/master.m3u8")
    assert any_storage.list_prefixes("assets") == []


def test_discard_staging_removes_the_folder_and_leaves_the_others(any_storage: Storage) -> None:
    doomed = stage(any_storage, "job-1-1", PACKAGE)
    kept = stage(any_storage, "job-1-2", {"a.ts": b"a"})

    any_storage.discard_staging("job-1-1")

    assert not doomed.exists()
    assert (kept / "a.ts").read_bytes() == b"a"
    any_storage.discard_staging("job-1-1")  # already gone: no error
    any_storage.discard_staging("never-made")


# --- publish ---------------------------------------------------------------------------------


def test_publish_makes_the_package_visible_and_consumes_the_staging_folder(any_storage: Storage) -> None:
    staging = stage(any_storage, "job-1-1", PACKAGE)
    assert contents(any_storage, "assets/1/1-1-c0ffee") == {}

    any_storage.publish(staging, "assets/1/1-1-c0ffee")

    assert contents(any_storage, "assets/1/1-1-c0ffee") == PACKAGE
    assert not staging.exists()
    assert any_storage.list_prefixes("assets") == ["assets/1"]
    assert any_storage.list_prefixes("assets/1") == ["assets/1/1-1-c0ffee"]
    assert any_storage.list_prefixes("assets/1/1-1-c0ffee") == [
        "assets/1/1-1-c0ffee/360p",
        "assets/1/1-1-c0ffee/720p",
        "assets/1/1-1-c0ffee/master.m3u8",
    ]


def test_a_reader_sees_all_of_a_package_or_none_of_it_on_local_disk(tmp_path: Path) -> None:
    # Local disk only: an object store has no rename; its package appears object by object under a
    # prefix that nothing refers to until the catalog's publish (test_s3.py, tests/integration/ingest).
    any_storage = LocalStorage(tmp_path / "store")
    files = {f"720p/seg_{n:05d}.ts": bytes([n % 256]) * 188 for n in range(300)}
    staging = stage(any_storage, "job-1-1", files)
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            # one listing is one look at the folder: a package copied in file by file shows partly
            seen.append(len(any_storage.list_prefixes("assets/1/p/720p")))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        any_storage.publish(staging, "assets/1/p")
    finally:
        done.set()
        reader.join()

    assert seen, "the reader never ran"
    assert set(seen) <= {0, len(files)}, sorted(set(seen))
    assert all(any_storage.exists(f"assets/1/p/{relative}") for relative in files)


def test_publish_to_a_taken_prefix_fails_and_keeps_the_package_there(any_storage: Storage) -> None:
    publish(any_storage, "assets/1/p")
    second = stage(any_storage, "job-1-2", {"master.m3u8": b"#EXTM3U\n# other\n", "extra.ts": b"x"})

    with pytest.raises(StorageError, match="'assets/1/p'") as info:
        any_storage.publish(second, "assets/1/p")

    assert isinstance(info.value, OSError)
    assert contents(any_storage, "assets/1/p") == PACKAGE
    assert not any_storage.exists("assets/1/p/extra.ts")
    assert any_storage.list_prefixes("assets/1") == ["assets/1/p"]


def test_a_published_parent_prefix_is_taken_too(any_storage: Storage) -> None:
    publish(any_storage, "assets/1/p/720p")
    with pytest.raises(StorageError):
        publish(any_storage, "assets/1/p")
    assert contents(any_storage, "assets/1/p/720p") == PACKAGE


# --- remove, list ----------------------------------------------------------------------------


def test_remove_deletes_one_package_only(any_storage: Storage) -> None:
    publish(any_storage, "assets/1/old")
    publish(any_storage, "assets/1/new")
    publish(any_storage, "assets/10/x")

    any_storage.remove("assets/1/old")

    assert contents(any_storage, "assets/1/old") == {}
    assert any_storage.list_prefixes("assets/1") == ["assets/1/new"]
    assert contents(any_storage, "assets/1/new") == PACKAGE
    assert contents(any_storage, "assets/10/x") == PACKAGE
    any_storage.remove("assets/1/old")  # already gone: no error
    any_storage.remove("assets/404/never")


def test_a_removed_prefix_can_be_published_again(any_storage: Storage) -> None:
    publish(any_storage, "assets/1/p", {"a.ts": b"first"})
    any_storage.remove("assets/1/p")
    publish(any_storage, "assets/1/p", {"b.ts": b"second"})
    assert not any_storage.exists("assets/1/p/a.ts")
    assert any_storage.read_bytes("assets/1/p/b.ts") == b"second"


def test_list_prefixes_gives_sorted_full_keys_of_direct_children(any_storage: Storage) -> None:
    for prefix in ("assets/2/b", "assets/10/a", "assets/1/z", "assets/1/a", "assets/党建/x"):
        publish(any_storage, prefix, {"master.m3u8": b"#EXTM3U\n"})

    assert any_storage.list_prefixes("assets") == ["assets/1", "assets/10", "assets/2", "assets/党建"]
    assert any_storage.list_prefixes("assets/1") == ["assets/1/a", "assets/1/z"]
    assert any_storage.list_prefixes("assets/1/") == ["assets/1/a", "assets/1/z"]
    assert any_storage.list_prefixes("assets/3") == []
    assert any_storage.list_prefixes("nothing") == []


def test_list_prefixes_leaves_out_hidden_entries(local_storage: LocalStorage) -> None:
    publish(local_storage, "assets/1/p")
    (local_storage.root / "assets" / "1" / ".partial").mkdir()
    (local_storage.root / "assets" / "1" / ".DS_Store").write_bytes(b"")
    assert local_storage.list_prefixes("assets/1") == ["assets/1/p"]


# --- reading ---------------------------------------------------------------------------------


def test_keys_inside_a_package_read_back(any_storage: Storage) -> None:
    publish(any_storage, "assets/1/p")
    for relative, data in PACKAGE.items():
        key = f"assets/1/p/{relative}"
        assert any_storage.exists(key), key
        assert any_storage.read_bytes(key) == data
        path = any_storage.local_path(key)
        if isinstance(any_storage, LocalStorage):
            assert path is not None
        if path is not None:
            assert path.is_file()
            assert path.read_bytes() == data


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("assets/1/p/720p/seg_99999.m4s", id="missing-file"),
        pytest.param("assets/1/p/720p", id="folder"),
        pytest.param("assets/1/p", id="package"),
        pytest.param("assets/2/p/master.m3u8", id="missing-package"),
    ],
)
def test_keys_that_are_not_files(any_storage: Storage, key: str) -> None:
    publish(any_storage, "assets/1/p")
    assert not any_storage.exists(key)
    assert any_storage.local_path(key) is None
    with pytest.raises(StorageError, match="cannot read"):
        any_storage.read_bytes(key)


# --- keys that would leave the store ---------------------------------------------------------


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the store with a file worth stealing and one worth deleting."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.ts").write_bytes(b"secret")
    return folder


UNSAFE_KEYS = [
    pytest.param("../outside/secret.ts", id="parent"),
    pytest.param("assets/../../outside/secret.ts", id="parent-inside"),
    pytest.param("{outside}/secret.ts", id="absolute"),
    pytest.param(".staging/job-1-1/master.m3u8", id="staging"),
    pytest.param("assets/1/p/../../../../outside/secret.ts", id="parent-from-a-package"),
]

Operation = Callable[[Storage, str], object]
OPERATIONS: list[object] = [
    pytest.param(lambda storage, key: storage.read_bytes(key), id="read_bytes"),
    pytest.param(lambda storage, key: storage.local_path(key), id="local_path"),
    pytest.param(lambda storage, key: storage.remove(key), id="remove"),
    pytest.param(lambda storage, key: storage.list_prefixes(key), id="list_prefixes"),
    pytest.param(lambda storage, key: storage.publish(storage.staging_dir("evil"), key), id="publish"),
]


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_keys_leaving_the_store_are_refused(
    any_storage: Storage, outside: Path, key: str, operation: Operation
) -> None:
    publish(any_storage, "assets/1/p")
    stage(any_storage, "job-1-1", PACKAGE)  # unfinished work a ".staging/..." key would reach
    key = key.format(outside=outside)

    with pytest.raises(UnsafePathError) as info:
        operation(any_storage, key)

    assert info.value.path == key
    assert (outside / "secret.ts").read_bytes() == b"secret"  # not deleted, not replaced
    assert sorted(p.name for p in outside.iterdir()) == ["secret.ts"]  # nothing published there
    assert contents(any_storage, "assets/1/p") == PACKAGE


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_exists_is_false_for_keys_leaving_the_store(any_storage: Storage, outside: Path, key: str) -> None:
    stage(any_storage, "job-1-1", PACKAGE)
    assert not any_storage.exists(key.format(outside=outside))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("../assets", id="parent"),
        pytest.param("/tmp/x", id="absolute"),
        pytest.param(".hidden", id="hidden"),
        pytest.param(".", id="staging-root"),
    ],
)
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda storage, name: storage.staging_dir(name), id="staging_dir"),
        pytest.param(lambda storage, name: storage.discard_staging(name), id="discard_staging"),
    ],
)
def test_staging_names_leaving_the_staging_area_are_refused(
    any_storage: Storage, name: str, operation: Operation
) -> None:
    publish(any_storage, "assets/1/p")
    kept = stage(any_storage, "job-1-1", {"a.ts": b"a"})

    with pytest.raises(UnsafePathError):
        operation(any_storage, name)

    assert contents(any_storage, "assets/1/p") == PACKAGE
    assert (kept / "a.ts").read_bytes() == b"a"


# --- symlinks (local disk) -------------------------------------------------------------------


@pytest.fixture
def linked(local_storage: LocalStorage, outside: Path) -> LocalStorage:
    """A store with a symlinked file inside a package and a symlinked folder, both pointing out."""
    publish(local_storage, "assets/1/p")
    (local_storage.root / "assets/1/p/720p/stolen.ts").symlink_to(outside / "secret.ts")
    (local_storage.root / "assets/evil").symlink_to(outside, target_is_directory=True)
    return local_storage


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("assets/1/p/720p/stolen.ts", id="file-link"),
        pytest.param("assets/evil/secret.ts", id="folder-link"),
    ],
)
@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda storage, key: storage.read_bytes(key), id="read_bytes"),
        pytest.param(lambda storage, key: storage.local_path(key), id="local_path"),
    ],
)
def test_a_symlink_out_of_the_store_is_not_followed(
    linked: LocalStorage, outside: Path, key: str, operation: Operation
) -> None:
    with pytest.raises(UnsafePathError):
        operation(linked, key)
    assert not linked.exists(key)


def test_a_symlinked_folder_out_of_the_store_cannot_be_removed_listed_or_published_into(
    linked: LocalStorage, outside: Path
) -> None:
    with pytest.raises(UnsafePathError):
        linked.remove("assets/evil")
    with pytest.raises(UnsafePathError):
        linked.list_prefixes("assets/evil")
    staging = stage(linked, "job-1-1", PACKAGE)
    with pytest.raises(UnsafePathError):
        linked.publish(staging, "assets/evil/p")

    assert sorted(p.name for p in outside.iterdir()) == ["secret.ts"]
    assert (outside / "secret.ts").read_bytes() == b"secret"
    assert contents(linked, "assets/1/p") == PACKAGE
