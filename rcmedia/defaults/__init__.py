"""What an installed rcmedia uses when no folder is configured: the house transcode profile and the
demo channel files. They are the repository's ``transcode_profiles/`` and ``playlists/`` (linked
here, copied into the wheel); ``rcmedia init`` writes editable copies to a folder of your choice.
"""

from __future__ import annotations

from pathlib import Path

from rcmedia.errors import ConfigError

FOLDER = Path(__file__).resolve().parent
PROFILES = FOLDER / "transcode_profiles"
PLAYLISTS = FOLDER / "playlists"

SETTINGS_FILE = "rcmedia.toml"

# What `rcmedia init` writes as rcmedia.toml: the folders it copies, named, and the settings one
# changes first, commented out with their defaults (every setting: `rcmedia settings`).
SETTINGS_TEMPLATE = """\
# rcmedia settings, written by `rcmedia init`. Every setting and its default: `rcmedia settings`
# (or docs/settings.md). Environment variables RCMEDIA_<NAME> override what is here. Relative
# paths are relative to this file.

# the transcode ladder(s) and the channel files, copied here from the package: edit them freely
profiles_dir = "transcode_profiles"
playlists_dir = "playlists"

# the embedded catalog (SQLite) and local storage live under home
home = "var"
hot_folder = "ingest"

# host = "127.0.0.1"
# port = 8080
# public_url = "https://tv.example.org"        # the address viewers use (M3U, XMLTV and pages)
# database_url = "postgresql+psycopg://rcmedia@db/rcmedia"
# storage = "/srv/rcmedia/storage"             # or s3://bucket/prefix
# schedule_days = 7
"""


def site_files(folder: Path) -> dict[Path, bytes]:
    """What ``write_site`` writes to ``folder``: path → content."""
    files = {folder / SETTINGS_FILE: SETTINGS_TEMPLATE.encode("utf-8")}
    for source, name in ((PROFILES, "transcode_profiles"), (PLAYLISTS, "playlists")):
        for path in sorted(source.iterdir()):
            if path.suffix in (".toml", ".md") and path.is_file():
                files[folder / name / path.name] = path.read_bytes()
    return files


def write_site(folder: Path, *, force: bool = False) -> list[Path]:
    """Write an editable ``rcmedia.toml``, ``transcode_profiles/`` and ``playlists/`` into ``folder``.

    Refuses (``ConfigError`` naming them) to overwrite files that exist, unless ``force``.
    """
    files = site_files(folder)
    existing = [path for path in files if path.exists()]
    if existing and not force:
        names = ", ".join(str(path) for path in existing)
        raise ConfigError(f"not overwriting {names}; use --force to replace them with the packaged ones")
    for path, content in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        except OSError as exc:
            raise ConfigError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return list(files)
