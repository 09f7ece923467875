"""Load transcode profiles from ``transcode_profiles/*.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path

from rcmedia.core.profile import Profile, parse_profile
from rcmedia.errors import ConfigError, NotFoundError, ProfileError


def load_profile_file(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read transcode profile {str(path)!r}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(str(path), "(syntax)", str(exc)) from exc
    profile = parse_profile(data, str(path))
    if profile.name != path.stem:
        raise ProfileError(str(path), "name", f"{profile.name!r} must match the file name {path.stem!r}")
    return profile


def load_profiles(folder: Path) -> dict[str, Profile]:
    """Every profile in ``folder``, validated; an invalid one stops start-up with its error."""
    if not folder.is_dir():
        raise ConfigError(f"transcode profile folder {str(folder)!r} does not exist (setting profiles_dir)")
    profiles = {p.stem: load_profile_file(p) for p in sorted(folder.glob("*.toml"))}
    if not profiles:
        raise ConfigError(f"no transcode profiles (*.toml) in {str(folder)!r}")
    return profiles


def pick_profile(profiles: dict[str, Profile], name: str) -> Profile:
    try:
        return profiles[name]
    except KeyError:
        raise NotFoundError("transcode profile", name) from None
