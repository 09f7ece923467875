"""deploy/compose.yaml, deploy/Dockerfile and deploy/nginx/ hold together: every service the
topology needs, every file they mount or copy exists, every RCMEDIA_* variable is a setting, the
edge's origins are the compose file's origins and Prometheus scrapes those same origins.

Docker cannot pull images on the machine this was written on, so the stack itself is not started
here; tests/acceptance/test_nginx_edge.py runs the edge's configuration for real.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from rcmedia.config import ENV_PREFIX, SETTINGS
from tests.conftest import PROJECT

DEPLOY = PROJECT / "deploy"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found = compose()["services"]
    assert isinstance(found, dict)
    return found


def test_the_topology_has_every_part() -> None:
    found = services()
    images = {name: str(service.get("image", "")) for name, service in found.items()}
    assert images["postgres"].startswith("postgres:")
    assert images["rabbitmq"].startswith("rabbitmq:")
    assert images["minio"].startswith("minio/minio")
    assert images["edge"].startswith("nginx:")
    assert images["prometheus"].startswith("prom/prometheus")
    commands = {name: service.get("command") for name, service in found.items()}
    origins = sorted(
        name for name, command in commands.items() if command and command[:2] == ["rcmedia", "serve"]
    )
    assert origins == ["origin-1", "origin-2"]
    for name in origins:
        assert "--no-scheduler" in commands[name], "the scheduler alone runs the EPG jobs"
    assert commands["worker"] == ["rcmedia", "worker"]
    assert [name for name, command in commands.items() if command == ["rcmedia", "scheduler"]] == [
        "scheduler"
    ]
    for name in [*origins, "worker", "scheduler"]:
        env = found[name]["environment"]
        assert env["RCMEDIA_EXECUTOR"] == "celery"
        assert env["RCMEDIA_BROKER_URL"] == "amqp://guest:guest@rabbitmq:5672//"
        assert env["RCMEDIA_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["RCMEDIA_STORAGE"].startswith("s3://")
        assert env["RCMEDIA_S3_ENDPOINT"] == "http://minio:9000"


def test_every_rcmedia_variable_is_a_setting() -> None:
    known = {ENV_PREFIX + setting.name.upper() for setting in SETTINGS}
    for name, service in services().items():
        for variable in service.get("environment", {}):
            if variable.startswith(ENV_PREFIX):
                assert variable in known, f"{name}: {variable} is not a setting"


def test_every_mounted_or_copied_file_exists() -> None:
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).is_file(), f"{name} mounts {source}"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    for line in (DEPLOY / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY "):
            *sources, _ = line.split()[1:]
            for source in sources:
                assert (PROJECT / source).exists(), f"Dockerfile copies {source}"


def test_the_edge_mounts_every_file_its_configuration_includes() -> None:
    mounted = {
        Path(volume.split(":")[1]).name for volume in services()["edge"]["volumes"] if volume.startswith(".")
    }
    included = {"nginx.conf"}
    for path in (DEPLOY / "nginx").glob("*.conf"):
        included |= set(
            re.findall(r"^\s*include\s+([^;\s]+);", path.read_text(encoding="utf-8"), re.MULTILINE)
        )
    assert included <= mounted
    assert all((DEPLOY / "nginx" / name).is_file() for name in included)


def test_the_edge_and_prometheus_know_the_same_origins() -> None:
    origins = sorted(
        name
        for name, service in services().items()
        if (service.get("command") or [])[:2] == ["rcmedia", "serve"]
    )
    upstream = re.findall(
        r"^server\s+(\S+)", (DEPLOY / "nginx" / "rcmedia-origins.conf").read_text(), re.MULTILINE
    )
    assert upstream == [f"{name}:8080" for name in origins]
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = prometheus["scrape_configs"]
    assert job["static_configs"][0]["targets"] == [f"{name}:8080" for name in origins]
