"""Settings: defaults < rcmedia.toml < RCMEDIA_* < overrides; bad keys and values name themselves."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from rcmedia import defaults
from rcmedia.config import SETTINGS, Settings, load_settings, settings_markdown
from rcmedia.errors import ConfigError
from tests.unit.factories import PROJECT

DOCS = PROJECT / "docs" / "settings.md"


def write_toml(folder: Path, text: str, name: str = "rcmedia.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_derived_from_the_working_directory(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)

    assert settings.home == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'rcmedia.db'}"
    assert settings.storage == str(tmp_path / "var" / "storage")
    # nothing configured: the profile and channel files the package ships, whatever the folder
    assert settings.profiles_dir == defaults.PROFILES
    assert (settings.profiles_dir / "default.toml").is_file()
    assert settings.playlists_dir == defaults.PLAYLISTS
    assert sorted(p.name for p in settings.playlists_dir.glob("*.toml")) == ["rcjy.toml", "rcxf.toml"]
    assert settings.hot_folder == tmp_path / "ingest"
    assert settings.work_dir == tmp_path / "var" / "work"
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.log_level == "INFO"


@pytest.mark.parametrize(
    "setting",
    [pytest.param(s, id=s.name) for s in SETTINGS if s.default is not None and s.kind != "path"],
)
def test_every_plain_default_is_applied(tmp_path: Path, setting: Any) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert getattr(settings, setting.name) == setting.default


@pytest.mark.parametrize(
    ("toml", "environ", "overrides", "expected_port"),
    [
        pytest.param("", {}, {}, 8080, id="default"),
        pytest.param("port = 9000\n", {}, {}, 9000, id="toml-over-default"),
        pytest.param("port = 9000\n", {"RCMEDIA_PORT": "9100"}, {}, 9100, id="env-over-toml"),
        pytest.param("port = 9000\n", {"RCMEDIA_PORT": "9100"}, {"port": 9200}, 9200, id="override-over-env"),
        pytest.param("port = 9000\n", {"RCMEDIA_PORT": "9100"}, {"port": "9300"}, 9300, id="string-override"),
        pytest.param(
            "port = 9000\n", {"RCMEDIA_PORT": "9100"}, {"port": None}, 9100, id="none-override-ignored"
        ),
    ],
)
def test_precedence(
    tmp_path: Path, toml: str, environ: dict[str, str], overrides: dict[str, Any], expected_port: int
) -> None:
    write_toml(tmp_path, toml + 'host = "10.0.0.5"\n')
    settings = load_settings(environ=environ, cwd=tmp_path, overrides=overrides)
    assert settings.port == expected_port
    assert settings.host == "10.0.0.5"  # untouched by the higher layers


def test_rcmedia_config_names_another_file(tmp_path: Path) -> None:
    write_toml(tmp_path, "port = 1111\n")  # ignored: RCMEDIA_CONFIG wins over the working directory
    other = write_toml(tmp_path, "port = 2222\n", name="elsewhere.toml")
    settings = load_settings(environ={"RCMEDIA_CONFIG": str(other)}, cwd=tmp_path)
    assert settings.port == 2222


def test_rcmedia_config_naming_a_missing_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        load_settings(environ={"RCMEDIA_CONFIG": str(missing)}, cwd=tmp_path)


def test_unknown_toml_key_is_refused_with_the_key_and_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "prot = 9000\n")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, cwd=tmp_path)
    assert "'prot'" in str(info.value)
    assert str(path) in str(info.value)


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write_toml(tmp_path, "port = \n")
    with pytest.raises(ConfigError, match="cannot read settings") as info:
        load_settings(environ={}, cwd=tmp_path)
    assert str(path) in str(info.value)


def test_unknown_override_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'colour'"):
        load_settings(environ={}, cwd=tmp_path, overrides={"colour": "red"})


@pytest.mark.parametrize(
    ("toml", "environ", "overrides", "fragments"),
    [
        pytest.param('port = "eighty"\n', {}, {}, ["'port'", "an integer", "'eighty'"], id="toml-int-text"),
        pytest.param("port = true\n", {}, {}, ["'port'", "an integer", "True"], id="toml-int-bool"),
        pytest.param("home = 5\n", {}, {}, ["'home'", "a path", "5"], id="toml-path-int"),
        pytest.param('home = ""\n', {}, {}, ["'home'", "a path", "''"], id="toml-path-empty"),
        pytest.param("log_level = 3\n", {}, {}, ["'log_level'", "a string", "3"], id="toml-str-int"),
        pytest.param(
            'loudness_target = "loud"\n', {}, {}, ["'loudness_target'", "a number", "'loud'"], id="toml-float"
        ),
        pytest.param(
            "",
            {"RCMEDIA_PORT": "abc"},
            {},
            ["'port'", "RCMEDIA_PORT", "an integer", "'abc'"],
            id="env-int",
        ),
        pytest.param(
            "",
            {"RCMEDIA_JOB_LEASE_SECONDS": "1m"},
            {},
            ["'job_lease_seconds'", "RCMEDIA_JOB_LEASE_SECONDS", "a number", "'1m'"],
            id="env-float",
        ),
        pytest.param(
            "", {"RCMEDIA_PORT": "8080.5"}, {}, ["'port'", "an integer", "'8080.5'"], id="env-int-fraction"
        ),
        pytest.param(
            "", {}, {"port": "x"}, ["'port'", "the command line", "an integer", "'x'"], id="override-int"
        ),
    ],
)
def test_bad_value_names_key_type_and_value(
    tmp_path: Path, toml: str, environ: dict[str, str], overrides: dict[str, Any], fragments: list[str]
) -> None:
    write_toml(tmp_path, toml)
    with pytest.raises(ConfigError) as info:
        load_settings(environ=environ, cwd=tmp_path, overrides=overrides)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_fractional_integer_in_toml_is_refused_not_truncated(tmp_path: Path) -> None:
    # The environment refuses RCMEDIA_PORT=8080.5 (see env-int-fraction); the same value from the
    # file must not silently become 8080.
    write_toml(tmp_path, "port = 8080.5\n")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={}, cwd=tmp_path)
    assert "'port'" in str(info.value)
    assert "8080.5" in str(info.value)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        pytest.param({"port": 65536}, "port must be between", id="port-high"),
        pytest.param({"port": -1}, "port must be between", id="port-negative"),
        pytest.param({"max_upload_bytes": 0}, "max_upload_bytes", id="upload-zero"),
        pytest.param({"max_duration_seconds": 0.0}, "max_duration_seconds", id="duration-zero"),
        pytest.param({"loudness_target": -3.0}, "loudness_target", id="loudness-too-loud"),
        pytest.param({"loudness_target": -71.0}, "loudness_target", id="loudness-too-quiet"),
        pytest.param({"true_peak_max": 0.5}, "true_peak_max", id="true-peak-positive"),
        pytest.param({"true_peak_max": -10.0}, "true_peak_max", id="true-peak-low"),
        pytest.param({"ingest_concurrency": -1}, "ingest_concurrency", id="concurrency-negative"),
        pytest.param({"job_attempts": 0}, "job_attempts", id="attempts-zero"),
        pytest.param({"job_lease_seconds": 0.0}, "job_lease_seconds", id="lease-zero"),
        pytest.param({"hot_folder_poll_seconds": -5.0}, "hot_folder_poll_seconds", id="poll-negative"),
        pytest.param({"log_level": "verbose"}, "log_level", id="log-level"),
    ],
)
def test_out_of_range_values_are_refused(tmp_path: Path, overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        load_settings(environ={}, cwd=tmp_path, overrides=overrides)


def test_environment_values_are_converted_to_the_setting_type(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "RCMEDIA_PORT": "9000",
            "RCMEDIA_LOUDNESS_TARGET": "-23",
            "RCMEDIA_HOME": "/srv/rcmedia",
            "RCMEDIA_HOT_FOLDER": "drop",
            "RCMEDIA_LOG_LEVEL": "debug",
            "UNRELATED": "x",
        },
        cwd=tmp_path,
    )
    assert settings.port == 9000
    assert isinstance(settings.port, int)
    assert settings.loudness_target == -23.0
    assert isinstance(settings.loudness_target, float)
    assert settings.home == Path("/srv/rcmedia")
    assert settings.database_url == "sqlite:////srv/rcmedia/rcmedia.db"
    assert settings.hot_folder == tmp_path / "drop"  # relative paths are under the working directory
    assert settings.log_level == "DEBUG"


def test_toml_integer_for_a_number_setting_becomes_float(tmp_path: Path) -> None:
    write_toml(tmp_path, "loudness_target = -23\n")
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.loudness_target == -23.0
    assert isinstance(settings.loudness_target, float)


def test_explicit_database_and_storage_are_kept(tmp_path: Path) -> None:
    write_toml(tmp_path, 'database_url = "postgresql+psycopg://rc@db/rc"\nstorage = "s3://bucket/media"\n')
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.database_url == "postgresql+psycopg://rc@db/rc"
    assert settings.storage == "s3://bucket/media"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        pytest.param({}, "http://127.0.0.1:8080", id="default"),
        pytest.param({"host": "0.0.0.0", "port": 9000}, "http://127.0.0.1:9000", id="any-address"),
        pytest.param({"host": "media.local"}, "http://media.local:8080", id="named-host"),
        pytest.param({"public_url": "https://tv.example.cn/"}, "https://tv.example.cn", id="public-url"),
    ],
)
def test_base_url(tmp_path: Path, overrides: dict[str, Any], expected: str) -> None:
    assert load_settings(environ={}, cwd=tmp_path, overrides=overrides).base_url() == expected


def test_transcode_slots_follow_the_setting(tmp_path: Path) -> None:
    assert load_settings(environ={}, cwd=tmp_path, overrides={"ingest_concurrency": 3}).transcode_slots == 3
    assert load_settings(environ={}, cwd=tmp_path).transcode_slots >= 1


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    assert settings.replace(port=1).port == 1
    assert settings.port == 8080


def test_database_url_is_kept_out_of_the_repr(tmp_path: Path) -> None:
    settings = load_settings(
        environ={}, cwd=tmp_path, overrides={"database_url": "postgresql://u:secret@h/d"}
    )
    assert "secret" not in repr(settings)


# --- a setting cannot be undocumented ---------------------------------------------------------


def test_every_settings_field_is_declared_in_settings() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [s.name for s in SETTINGS]


@pytest.mark.parametrize("setting", [pytest.param(s, id=s.name) for s in SETTINGS])
def test_every_setting_is_in_the_docs_and_the_generated_table(setting: Any) -> None:
    docs = DOCS.read_text(encoding="utf-8")
    generated = settings_markdown()
    env_name = f"RCMEDIA_{setting.name.upper()}"
    assert setting.doc.strip()
    for text in (docs, generated):
        assert f"| `{setting.name}` | `{env_name}` |" in text
    assert setting.doc in generated


def test_docs_hold_the_current_generated_table() -> None:
    assert settings_markdown() in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        pytest.param({"RCMEDIA_EXECUTOR": "threads"}, "executor", id="unknown-executor"),
        pytest.param({"RCMEDIA_EXECUTOR": "celery"}, "broker_url", id="celery-without-broker"),
        pytest.param(
            {"RCMEDIA_EXECUTOR": "celery", "RCMEDIA_BROKER_URL": "http://127.0.0.1:5672"},
            "broker_url",
            id="celery-with-a-web-url",
        ),
        pytest.param({"RCMEDIA_BROKER_QUEUE": " "}, "broker_queue", id="empty-queue"),
        pytest.param(
            {"RCMEDIA_BROKER_VISIBILITY_TIMEOUT_SECONDS": "0"},
            "broker_visibility_timeout_seconds",
            id="no-visibility-timeout",
        ),
    ],
)
def test_bad_executor_settings_fail_at_start_up_naming_the_key(
    tmp_path: Path, environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(environ=environ, cwd=tmp_path)


def test_the_embedded_default_runs_jobs_in_process_and_a_celery_worker_runs_one_at_a_time(
    tmp_path: Path,
) -> None:
    default = load_settings(environ={}, cwd=tmp_path)
    assert default.executor == "inprocess"
    celery = load_settings(
        environ={"RCMEDIA_EXECUTOR": "celery", "RCMEDIA_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"},
        cwd=tmp_path,
    )
    assert celery.worker_slots == 1
    assert "guest" not in repr(celery), "the broker URL may hold a password"
    assert celery.replace(ingest_concurrency=3).worker_slots == 3
