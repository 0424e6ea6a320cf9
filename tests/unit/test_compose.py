"""compose.yaml is the documented scale-out topology. No Docker engine runs here, so its
structure is checked instead, and kept in step with the settings it sets."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import yaml

from entrypoints.settings import unknown_env_vars

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def test_api_replicas_sit_behind_the_balancer_which_alone_publishes_a_port() -> None:
    services = compose()["services"]
    assert services["api"]["deploy"]["replicas"] >= 2
    assert "ports" not in services["api"]
    assert services["lb"]["image"].startswith("nginx:")
    assert services["lb"]["ports"] == ["8000:80"]
    assert services["lb"]["depends_on"]["api"]["condition"] == "service_healthy"
    published = [name for name, spec in services.items() if "ports" in spec]
    assert published == ["lb"]


def test_the_balancer_passes_websockets_and_streams_through_unbuffered() -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    mounted = compose()["services"]["lb"]["volumes"][0]
    assert mounted.startswith("./deploy/nginx.conf:")
    for directive in (
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_buffering off;",
        "proxy_request_buffering off;",
        "proxy_set_header X-Forwarded-For $remote_addr;",  # overwritten, not appended
        "server api:8000;",
    ):
        assert directive in conf, directive


def test_x_forwarded_for_is_trusted_from_the_balancers_address_only() -> None:
    spec = compose()
    env = spec["x-parley-env"]
    balancer = spec["services"]["lb"]["networks"]["parley"]["ipv4_address"]
    subnet = spec["networks"]["parley"]["ipam"]["config"][0]["subnet"]
    assert env["PARLEY_HTTP_TRUSTED_PROXIES"] == balancer
    assert ipaddress.ip_address(balancer) in ipaddress.ip_network(subnet)


def test_migrate_runs_once_before_api_and_worker() -> None:
    services = compose()["services"]
    assert services["migrate"]["command"] == ["parley", "migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("api", "worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully", name
        assert needs["redis"]["condition"] == "service_healthy", name
    assert services["worker"]["command"][:2] == ["parley", "worker"]
    assert "profiles" not in services["worker"]  # workers run by default


def test_postgres_and_redis_have_health_checks_and_volumes() -> None:
    spec = compose()
    for name in ("postgres", "redis"):
        service = spec["services"][name]
        assert service["healthcheck"]["test"], name
        volume = service["volumes"][0].split(":")[0]
        assert volume in spec["volumes"], name


def test_every_parley_variable_in_the_file_is_a_real_setting() -> None:
    text = (ROOT / "compose.yaml").read_text()
    names = set(re.findall(r"\b(PARLEY_[A-Z0-9_]+)\s*:", text))
    assert "PARLEY_DATABASE_URL" in names and "PARLEY_REDIS_URL" in names
    assert unknown_env_vars(dict.fromkeys(names, "x")) == []
