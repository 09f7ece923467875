"""Settings: one frozen object, loaded once from ``rcmedia.toml`` and ``RCMEDIA_*`` variables.

Precedence: built-in default < ``rcmedia.toml`` (in the working directory, or the file named by
``RCMEDIA_CONFIG``) < environment. A bad key or value fails at start-up with the key, the expected
type and the value given. Every setting is listed in :data:`SETTINGS`, which also renders the
documentation (``rcmedia settings``), so a setting cannot exist undocumented.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rcmedia import defaults
from rcmedia.errors import ConfigError

ENV_PREFIX = "RCMEDIA_"
EXECUTORS = ("inprocess", "celery")
BROKER_SCHEMES = ("amqp://", "amqps://", "pyamqp://", "redis://", "rediss://")


@dataclass(frozen=True, kw_only=True, slots=True)
class Setting:
    name: str
    kind: str  # "str" | "int" | "float" | "bool" | "path"
    default: Any
    doc: str


# Defaults of None are derived from `home` in `Settings.derive`.
SETTINGS: tuple[Setting, ...] = (
    Setting(
        name="home",
        kind="path",
        default="var",
        doc="Folder for the embedded database, local storage and work files. Always wins over "
        "the working directory, so several instances can run side by side.",
    ),
    Setting(
        name="database_url",
        kind="str",
        default=None,
        doc="SQLAlchemy URL of the catalog. Default: SQLite (WAL) at `HOME/rcmedia.db`. "
        "PostgreSQL: `postgresql+psycopg://user@host/db`; libpq options in the URL are kept (e.g. "
        "`?options=-csearch_path%3Drcmedia` for a schema of its own).",
    ),
    Setting(
        name="database_busy_timeout_seconds",
        kind="float",
        default=10.0,
        doc="How long a catalog statement waits for a lock another writer holds (SQLite's busy "
        "timeout, PostgreSQL's `lock_timeout`). Past it the request fails as busy: the web answers "
        "503 with `Retry-After`.",
    ),
    Setting(
        name="storage",
        kind="str",
        default=None,
        doc="Where packaged media lives: a folder (default `HOME/storage`) or `s3://bucket/prefix`.",
    ),
    Setting(
        name="s3_endpoint",
        kind="str",
        default="",
        doc="Endpoint URL of an S3-compatible store (empty: AWS). Credentials come from the standard "
        "AWS chain (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, `~/.aws/credentials`, an instance "
        "role), never from this file.",
    ),
    Setting(
        name="s3_region", kind="str", default="", doc="Region of the S3 bucket (empty: the AWS chain's)."
    ),
    Setting(
        name="s3_media",
        kind="str",
        default="redirect",
        doc="How the origin serves media stored in S3: `redirect` (a 307 to a presigned URL, "
        "the store sends the bytes) or `proxy` (the origin reads and sends them). Playlists are "
        "always the origin's.",
    ),
    Setting(
        name="s3_presign_seconds",
        kind="int",
        default=3600,
        doc="Lifetime of a presigned media URL. The redirect itself may be cached a tenth of it.",
    ),
    Setting(
        name="withdrawn_grace_days",
        kind="float",
        default=30.0,
        doc="How long a withdrawn asset's package stays in storage. `rcmedia storage sweep` deletes "
        "the packages of assets withdrawn longer ago (and marks them gone in the catalog and the "
        "audit log). A withdrawn asset never plays again (VOD answers 404, live and catch-up put "
        "the slate in its place), so this is only how long a mistaken withdrawal can be undone "
        "from storage by hand.",
    ),
    Setting(
        name="ffmpeg",
        kind="str",
        default="",
        doc="Path of the ffmpeg binary. Default: the one bundled in the imageio-ffmpeg wheel.",
    ),
    Setting(
        name="slate_font",
        kind="str",
        default="",
        doc="Font file for the title slate of audio-only sources. Default: fontconfig's "
        "'Noto Sans CJK SC' or its fallback; Chinese titles need a CJK font installed "
        "(e.g. Debian's fonts-noto-cjk or fonts-wqy-microhei).",
    ),
    Setting(
        name="profiles_dir",
        kind="path",
        default=None,
        doc="Folder of transcode profiles (TOML, one file per profile). Default: the house profile "
        "shipped in the package (`rcmedia init` writes an editable copy and names it here).",
    ),
    Setting(
        name="playlists_dir",
        kind="path",
        default=None,
        doc="Folder of channel and grid files (TOML) that `rcmedia channels apply` loads by default. "
        "Default: the demo channels shipped in the package (`rcmedia init` writes editable copies).",
    ),
    Setting(
        name="schedule_days",
        kind="int",
        default=7,
        doc="How many days ahead the EPG is built and kept built.",
    ),
    Setting(
        name="freeze_seconds",
        kind="float",
        default=120.0,
        doc="Freeze horizon: rebuilds and operator edits never change events starting before now + this.",
    ),
    Setting(
        name="schedule_lock_wait_seconds",
        kind="float",
        default=5.0,
        doc="How long an operator edit waits for another write of the same channel output (an edit "
        "or a rebuild storing its days) before it is answered 503 with Retry-After.",
    ),
    Setting(
        name="profile", kind="str", default="default", doc="Profile used when an ingest does not name one."
    ),
    Setting(
        name="hot_folder",
        kind="path",
        default="ingest",
        doc="Hot folder root: files dropped in `inbox/` are ingested and moved to `done/` or `failed/`.",
    ),
    Setting(
        name="hot_folder_poll_seconds",
        kind="float",
        default=5.0,
        doc="How often `serve` looks into the hot folder.",
    ),
    Setting(
        name="max_upload_bytes",
        kind="int",
        default=20 * 1024**3,
        doc="Largest source file accepted, in bytes.",
    ),
    Setting(
        name="upload_expiry_hours",
        kind="float",
        default=24.0,
        doc="How long an unfinished tus upload (`/api/v1/uploads`) may be resumed; after that its "
        "partial data is deleted and its address answers 410.",
    ),
    Setting(
        name="max_duration_seconds",
        kind="float",
        default=6 * 3600.0,
        doc="Longest source accepted, in seconds.",
    ),
    Setting(
        name="loudness_target",
        kind="float",
        default=-24.0,
        doc="Integrated loudness target in LUFS (EBU R128 / ATSC A/85 style).",
    ),
    Setting(
        name="true_peak_max",
        kind="float",
        default=-1.0,
        doc="Highest true peak allowed after normalisation, in dBTP.",
    ),
    Setting(
        name="ingest_concurrency",
        kind="int",
        default=0,
        doc="Transcodes run at once. 0: one per two CPU cores (ffmpeg already uses every core).",
    ),
    Setting(
        name="job_attempts",
        kind="int",
        default=3,
        doc="How often a job that failed for a transient reason (tool crash, restart) is tried.",
    ),
    Setting(
        name="job_lease_seconds",
        kind="float",
        default=60.0,
        doc="A running job whose worker has not renewed its lease for this long is taken over.",
    ),
    Setting(
        name="executor",
        kind="str",
        default="inprocess",
        doc="Who runs ingest jobs: `inprocess` (threads of `serve`, `rcmedia ingest` or `rcmedia "
        "worker`, polling the catalog) or `celery` (`rcmedia worker` processes fed by a message "
        "broker, on any number of machines; `serve` and `rcmedia ingest` only enqueue). Needs "
        "`pip install 'rcmedia[celery]'`.",
    ),
    Setting(
        name="broker_url",
        kind="str",
        default="",
        doc="Message broker of `executor = celery`: RabbitMQ `amqp://user:password@host:5672/vhost` "
        "(preferred) or Redis `redis://host:6379/0`.",
    ),
    Setting(
        name="broker_queue",
        kind="str",
        default="rcmedia-ingest",
        doc="Broker queue the ingest jobs go through (one per installation sharing a broker).",
    ),
    Setting(
        name="broker_visibility_timeout_seconds",
        kind="float",
        default=86400.0,
        doc="Redis only: how long a taken but unacknowledged job message stays invisible before "
        "Redis hands it to another worker. Keep it above the longest transcode (a re-delivered "
        "message for a running job only waits for its lease, but costs a worker slot). RabbitMQ "
        "has no such timeout (mind its `consumer_timeout`, deploy/README.md).",
    ),
    Setting(
        name="job_retry_seconds",
        kind="float",
        default=15.0,
        doc="`executor = celery`: wait before a job whose attempt failed for a transient reason "
        "(tool crash) is tried again; doubled on each further attempt, at most 20 times this.",
    ),
    Setting(
        name="aired_cache_bytes",
        kind="int",
        default=4 << 30,
        doc="Disk the origin may fill with segments as aired (rewritten onto each channel's clock, "
        "once per airing and rung) in `HOME/cache/aired`; past it the oldest go first. A segment "
        "is a few MB, an hour of one rung a few hundred. 0: keep them in memory only.",
    ),
    Setting(name="host", kind="str", default="127.0.0.1", doc="Address `serve` listens on."),
    Setting(name="port", kind="int", default=8080, doc="Port `serve` listens on."),
    Setting(
        name="workers",
        kind="int",
        default=1,
        doc="Processes `serve` answers HTTP with, all on the same port (`SO_REUSEPORT`); 0: one per "
        "CPU core. With more than one, a parent process supervises them and runs the ingest jobs, "
        "the hot folder and the EPG jobs.",
    ),
    Setting(
        name="live_fast_lane",
        kind="bool",
        default=True,
        doc="Answer cached live media playlists straight from the connection, before aiohttp's "
        "request cycle (8 times less CPU each; rcmedia/web/fast_lane.py). false: every request "
        "the usual way.",
    ),
    Setting(
        name="catchup_builds",
        kind="int",
        default=2,
        doc="Catch-up playlists computed at once, in worker threads of their own, so that live "
        "playlists and `/healthz` never wait behind them.",
    ),
    Setting(
        name="catchup_queue",
        kind="int",
        default=32,
        doc="Catch-up playlist computations that may wait for one of those threads; beyond, a "
        "request is answered 503 with `Retry-After` (cached playlists are always answered).",
    ),
    Setting(
        name="request_header_timeout",
        kind="float",
        default=60.0,
        doc="Seconds a client has to send a request's headers, counted from connecting or from the "
        "first byte of a later request on a kept-alive connection; then the connection is closed "
        "(nginx's client_header_timeout).",
    ),
    Setting(
        name="keepalive_timeout",
        kind="float",
        default=75.0,
        doc="Seconds a kept-alive connection may wait idle for its next request before it is closed "
        "(nginx's keepalive_timeout).",
    ),
    Setting(
        name="send_timeout",
        kind="float",
        default=60.0,
        doc="A connection whose client takes none of what it is sent for this many seconds is cut "
        "off (nginx's send_timeout): on Linux by the kernel (`TCP_USER_TIMEOUT`), for file "
        "sends too.",
    ),
    Setting(
        name="max_connections",
        kind="int",
        default=0,
        doc="Client connections each `serve` process keeps open. At the cap the longest idle ones "
        "are closed to make room, and when none is idle new connections wait in the kernel's "
        "backlog instead of failing. 0: derived from the open-files limit (which `serve` raises "
        "to its hard limit): (limit - 256) / 2, at most 10000.",
    ),
    Setting(
        name="public_url",
        kind="str",
        default="",
        doc="Absolute base URL viewers reach the origin at (for M3U and printed URLs). "
        "Default: the channel list is built on the request's Host and kept out of shared caches "
        "(`private`); the CLI prints host and port. Set it behind a proxy or an edge cache.",
    ),
    Setting(
        name="cors_origin",
        kind="str",
        default="*",
        doc="Value of `Access-Control-Allow-Origin` on playlists and segments.",
    ),
    Setting(
        name="session_hours",
        kind="float",
        default=12.0,
        doc="How long a login (operator, editor, admin) lasts before signing in again.",
    ),
    Setting(
        name="login_failures_per_name",
        kind="int",
        default=5,
        doc="Failed logins for one account name from one address (within 15 minutes) before that "
        "pair is refused (429) for `login_block_seconds`. Every attempt counts before its "
        "password is checked; a success forgets them.",
    ),
    Setting(
        name="login_block_seconds",
        kind="float",
        default=60.0,
        doc="How long a name and address pair stays refused after `login_failures_per_name`.",
    ),
    Setting(
        name="login_failures_per_address",
        kind="int",
        default=20,
        doc="Failed logins from one address across all names (within 10 minutes) before the address "
        "is refused (429) for `login_address_block_seconds`. Behind a reverse proxy every client "
        "has the proxy's address: raise it, or 0 for no per-address limit.",
    ),
    Setting(
        name="login_address_block_seconds",
        kind="float",
        default=300.0,
        doc="How long an address stays refused after `login_failures_per_address`.",
    ),
    Setting(
        name="login_threads",
        kind="int",
        default=1,
        doc="Password checks (argon2id: about 64 MiB and a few tens of milliseconds of CPU each) run "
        "at once, in threads of their own, apart from the ones that serve the catalog.",
    ),
    Setting(
        name="login_queue",
        kind="int",
        default=4,
        doc="Logins that may wait for a password check; more at once are refused at once (503 with "
        "`Retry-After`), so a flood of logins cannot slow the rest of the origin down.",
    ),
    Setting(name="log_level", kind="str", default="INFO", doc="DEBUG, INFO, WARNING or ERROR."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    home: Path
    database_url: str = field(repr=False)
    database_busy_timeout_seconds: float
    storage: str
    s3_endpoint: str
    s3_region: str
    s3_media: str
    s3_presign_seconds: int
    withdrawn_grace_days: float
    ffmpeg: str
    slate_font: str
    profiles_dir: Path
    playlists_dir: Path
    schedule_days: int
    freeze_seconds: float
    schedule_lock_wait_seconds: float
    profile: str
    hot_folder: Path
    hot_folder_poll_seconds: float
    max_upload_bytes: int
    upload_expiry_hours: float
    max_duration_seconds: float
    loudness_target: float
    true_peak_max: float
    ingest_concurrency: int
    job_attempts: int
    job_lease_seconds: float
    executor: str
    broker_url: str = field(repr=False)
    broker_queue: str
    broker_visibility_timeout_seconds: float
    job_retry_seconds: float
    aired_cache_bytes: int
    host: str
    port: int
    workers: int
    live_fast_lane: bool
    catchup_builds: int
    catchup_queue: int
    request_header_timeout: float
    keepalive_timeout: float
    send_timeout: float
    max_connections: int
    public_url: str
    cors_origin: str
    session_hours: float
    login_failures_per_name: int
    login_block_seconds: float
    login_failures_per_address: int
    login_address_block_seconds: float
    login_threads: int
    login_queue: int
    log_level: str

    @property
    def transcode_slots(self) -> int:
        """Concurrent transcodes: the setting, or one per two cores."""
        if self.ingest_concurrency > 0:
            return self.ingest_concurrency
        return max(1, (os.cpu_count() or 2) // 2)

    @property
    def worker_slots(self) -> int:
        """Transcodes one Celery worker runs at once: the setting, else one (one ffmpeg per worker
        already uses every core; add workers, not slots)."""
        return self.ingest_concurrency if self.ingest_concurrency > 0 else 1

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def uploads_dir(self) -> Path:
        """Where unfinished tus uploads are staged (rcmedia.ingest.uploads)."""
        return self.work_dir / "uploads"

    @property
    def aired_cache_dir(self) -> Path:
        """Where segments as aired are kept (rcmedia.playout.aired)."""
        return self.home / "cache" / "aired"

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host  # noqa: S104
        return f"http://{host}:{self.port}"

    def replace(self, **changes: Any) -> Settings:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def _convert(setting: Setting, value: object, origin: str) -> Any:
    expected = {
        "str": "a string",
        "path": "a path",
        "bool": "a boolean (true/false)",
        "int": "an integer",
        "float": "a number",
    }[setting.kind]
    error = ConfigError(f"setting {setting.name!r} from {origin}: expected {expected}, got {value!r}")
    if setting.kind == "str" and isinstance(value, str):
        return value
    if setting.kind == "path" and isinstance(value, str) and value:
        return Path(value)
    if setting.kind == "bool":
        if isinstance(value, bool):
            return value
        words = {
            "1": True,
            "true": True,
            "yes": True,
            "on": True,
            "0": False,
            "false": False,
            "no": False,
            "off": False,
        }
        if isinstance(value, str) and value.lower() in words:
            return words[value.lower()]
    if (
        setting.kind in ("int", "float")
        and isinstance(value, (int, float, str))
        and not isinstance(value, bool)
    ):
        if setting.kind == "int" and isinstance(value, float) and not value.is_integer():
            raise error
        try:
            return int(value) if setting.kind == "int" else float(value)
        except ValueError:
            pass
    raise error


def _validate(values: dict[str, Any]) -> None:
    checks: list[tuple[bool, str]] = [
        (values["port"] in range(65536), "port must be between 0 and 65535"),
        (values["s3_media"] in ("redirect", "proxy"), "s3_media must be 'redirect' or 'proxy'"),
        (values["s3_presign_seconds"] >= 60, "s3_presign_seconds must be at least 60"),
        # a live window may list a just-withdrawn asset's segments for a minute: never the same day
        (values["withdrawn_grace_days"] >= 1, "withdrawn_grace_days must be at least 1"),
        (values["workers"] >= 0, "workers must be 0 (one per CPU core) or more"),
        (values["max_upload_bytes"] > 0, "max_upload_bytes must be positive"),
        (values["upload_expiry_hours"] > 0, "upload_expiry_hours must be positive"),
        (values["max_duration_seconds"] > 0, "max_duration_seconds must be positive"),
        (-70 <= values["loudness_target"] <= -5, "loudness_target must be between -70 and -5 LUFS"),
        (-9 <= values["true_peak_max"] <= 0, "true_peak_max must be between -9 and 0 dBTP"),
        (values["ingest_concurrency"] >= 0, "ingest_concurrency must be 0 (auto) or more"),
        (values["job_attempts"] >= 1, "job_attempts must be at least 1"),
        (1 <= values["schedule_days"] <= 60, "schedule_days must be between 1 and 60"),
        (values["freeze_seconds"] >= 0, "freeze_seconds must not be negative"),
        (values["schedule_lock_wait_seconds"] > 0, "schedule_lock_wait_seconds must be positive"),
        (values["job_lease_seconds"] > 0, "job_lease_seconds must be positive"),
        (values["executor"] in EXECUTORS, "executor must be 'inprocess' or 'celery'"),
        (
            values["executor"] != "celery" or values["broker_url"].startswith(BROKER_SCHEMES),
            f"broker_url must be amqp://… or redis://… with executor 'celery', got {values['broker_url']!r}",
        ),
        (bool(values["broker_queue"].strip()), "broker_queue must not be empty"),
        (
            values["broker_visibility_timeout_seconds"] > 0,
            "broker_visibility_timeout_seconds must be positive",
        ),
        (values["job_retry_seconds"] >= 0, "job_retry_seconds must not be negative"),
        (values["aired_cache_bytes"] >= 0, "aired_cache_bytes must be 0 (memory only) or more"),
        (values["hot_folder_poll_seconds"] > 0, "hot_folder_poll_seconds must be positive"),
        (values["session_hours"] > 0, "session_hours must be positive"),
        (values["catchup_builds"] >= 1, "catchup_builds must be at least 1"),
        (values["catchup_queue"] >= 0, "catchup_queue must not be negative"),
        (values["login_failures_per_name"] >= 1, "login_failures_per_name must be at least 1"),
        (values["login_block_seconds"] > 0, "login_block_seconds must be positive"),
        (
            values["login_failures_per_address"] >= 0,
            "login_failures_per_address must be 0 (no limit) or more",
        ),
        (values["login_address_block_seconds"] > 0, "login_address_block_seconds must be positive"),
        (1 <= values["login_threads"] <= 64, "login_threads must be between 1 and 64"),
        (values["login_queue"] >= 0, "login_queue must not be negative"),
        (values["request_header_timeout"] > 0, "request_header_timeout must be positive"),
        (values["keepalive_timeout"] > 0, "keepalive_timeout must be positive"),
        (values["send_timeout"] > 0, "send_timeout must be positive"),
        (values["max_connections"] >= 0, "max_connections must be 0 (derived) or more"),
        (values["database_busy_timeout_seconds"] > 0, "database_busy_timeout_seconds must be positive"),
        (
            values["log_level"].upper() in ("DEBUG", "INFO", "WARNING", "ERROR"),
            "log_level must be DEBUG, INFO, WARNING or ERROR",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"invalid setting: {message}")


def load_settings(
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read defaults, then ``rcmedia.toml``, then ``RCMEDIA_*`` variables, then ``overrides``.

    Relative paths in the settings file are relative to the file; others to the working directory.
    """
    env = os.environ if environ is None else environ
    base = Path.cwd() if cwd is None else cwd
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS}

    config_file = Path(env.get(f"{ENV_PREFIX}CONFIG", "")) if env.get(f"{ENV_PREFIX}CONFIG") else None
    candidate = config_file or base / "rcmedia.toml"
    if candidate.exists():
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{candidate}: cannot read settings: {exc}") from exc
        for key, value in data.items():
            if key not in _BY_NAME:
                known = ", ".join(sorted(_BY_NAME))
                raise ConfigError(f"{candidate}: unknown setting {key!r} (known: {known})")
            values[key] = _convert(_BY_NAME[key], value, str(candidate))
            if isinstance(values[key], Path) and not values[key].is_absolute():
                # a file's relative paths are relative to the file, wherever the process runs
                values[key] = candidate.resolve().parent / values[key]
    elif config_file is not None:
        raise ConfigError(f"RCMEDIA_CONFIG names {str(config_file)!r}, which does not exist")

    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or key == f"{ENV_PREFIX}CONFIG":
            continue
        name = key.removeprefix(ENV_PREFIX).lower()
        if name in _BY_NAME:
            values[name] = _convert(_BY_NAME[name], raw, f"environment variable {key}")
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in _BY_NAME:
            raise ConfigError(f"unknown setting {name!r}")
        values[name] = (
            _convert(_BY_NAME[name], value, "the command line") if isinstance(value, str) else value
        )

    for name in ("home", "profiles_dir", "playlists_dir", "hot_folder"):
        path = Path(values[name]) if values[name] is not None else None
        if path is not None and not path.is_absolute():
            path = base / path
        values[name] = path
    # not configured: what the package ships, so that an installed rcmedia runs in any folder
    values["profiles_dir"] = values["profiles_dir"] or defaults.PROFILES
    values["playlists_dir"] = values["playlists_dir"] or defaults.PLAYLISTS
    home: Path = values["home"]
    if not values["database_url"]:
        values["database_url"] = f"sqlite:///{home / 'rcmedia.db'}"
    if not values["storage"]:
        values["storage"] = str(home / "storage")
    values["log_level"] = values["log_level"].upper()
    _validate(values)
    return Settings(**values)


def settings_markdown() -> str:
    """The settings table as Markdown (what `rcmedia settings` prints and docs/settings.md holds)."""
    lines = [
        "| setting (`rcmedia.toml`) | environment | type | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = "derived" if s.default is None else f"`{s.default}`"
        lines.append(f"| `{s.name}` | `{ENV_PREFIX}{s.name.upper()}` | {s.kind} | {default} | {s.doc} |")
    return "\n".join(lines) + "\n"
