"""compose.yaml: the production shape it promises (read as data: no container runtime in the tests)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from core.config import REPO_ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "compose.yaml").read_text(encoding="utf-8"))


def read_settings() -> set[str]:
    """Every LIUZHI_* name the code reads."""
    names = set()
    for path in (REPO_ROOT / "core").rglob("*.py"):
        names |= set(re.findall(r'_(?:env|int|flag)\("([A-Z0-9_]+)"', path.read_text(encoding="utf-8")))
    return {f"LIUZHI_{n}" for n in names}


def test_the_services_of_a_production_deployment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"db", "redis", "migrate", "app", "jobs", "proxy", "backup"} <= set(services)
    app, jobs = services["app"], services["jobs"]
    command = " ".join(app["command"])
    assert "--workers" in command and "--no-jobs" in command
    assert jobs["command"] == ["liuzhi", "jobs", "run"]
    for name in ("app", "jobs"):
        # Migrations before the new code.
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert services["migrate"]["command"] == ["liuzhi", "db", "upgrade"]
    env = app["environment"]
    assert env["LIUZHI_REDIS_URL"].startswith("redis://redis:")  # several workers need it
    assert env["LIUZHI_LOG_FORMAT"] == "json"
    assert "liuzhi_app" in env["LIUZHI_DATABASE_URL"]  # the non-owner role: row-level security applies
    proxy_ip = services["proxy"]["networks"]["liuzhi"]["ipv4_address"]
    assert env["LIUZHI_TRUSTED_PROXIES"] == proxy_ip
    nginx = compose["configs"]["nginx"]["content"]
    assert "location = /metrics { return 404; }" in nginx
    assert "proxy_buffering off" in nginx  # server-sent events
    assert "X-Request-ID" in nginx


def test_every_setting_the_compose_file_passes_is_one_the_code_reads(compose: dict[str, Any]) -> None:
    passed = {k for k in compose["services"]["app"]["environment"] if k.startswith("LIUZHI_")}
    unknown = passed - read_settings() - {"LIUZHI_TRUSTED_PROXIES"}  # read by the security layer (#7)
    assert not unknown, f"compose.yaml sets variables nothing reads: {sorted(unknown)}"


def test_the_image_can_back_up_the_compose_database(compose: dict[str, Any]) -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "postgresql-client" in dockerfile and "bookworm" in dockerfile  # bookworm's client is 15
    assert compose["services"]["db"]["image"].startswith("postgres:15")
    assert compose["services"]["backup"]["command"][:2] == ["liuzhi", "backup"]
