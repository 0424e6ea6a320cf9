"""Which Origins may open a socket: configured ones, the server's own host, non-browsers."""

from __future__ import annotations

from entrypoints.http.websocket.origin import OriginPolicy

POLICY = OriginPolicy(["https://app.example.com"])


def test_a_client_without_origin_is_not_a_browser_and_is_allowed() -> None:
    assert POLICY.allows(None, "api.example.com", "wss")


def test_a_configured_origin_is_allowed_whatever_its_case() -> None:
    assert POLICY.allows("HTTPS://App.Example.com", "api.example.com", "wss")


def test_a_foreign_origin_is_refused() -> None:
    assert not POLICY.allows("https://evil.example.net", "api.example.com", "wss")


def test_the_servers_own_page_is_allowed() -> None:
    assert POLICY.allows("http://127.0.0.1:8000", "127.0.0.1:8000", "ws")


def test_same_host_on_another_port_is_refused() -> None:
    assert not POLICY.allows("http://127.0.0.1:9999", "127.0.0.1:8000", "ws")


def test_behind_a_tls_proxy_the_host_name_decides() -> None:
    assert POLICY.allows("https://chat.example.com", "chat.example.com", "ws")


def test_the_null_origin_of_sandboxed_pages_is_refused() -> None:
    assert not POLICY.allows("null", "chat.example.com", "ws")


def test_a_look_alike_host_is_refused() -> None:
    assert not POLICY.allows("https://chat.example.com.evil.net", "chat.example.com", "wss")


def test_a_wildcard_configuration_allows_any_origin() -> None:
    assert OriginPolicy(["*"]).allows("https://anywhere.test", "api.example.com", "wss")
