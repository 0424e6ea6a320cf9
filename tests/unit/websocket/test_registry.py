"""The registry's re-check closes sockets whose credential stopped working (R9)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from application.identity.authenticate import Authenticate
from application.identity.principal import Principal
from application.ports.token_store import TokenStoreUnavailable
from domain.credentials import AccountDisabled, TokenRevoked
from domain.errors import DomainError
from entrypoints.http.websocket.registry import SocketRegistry


class ScriptedAuthenticate(Authenticate):
    """Answers per credential: a principal, or the error to raise."""

    def __init__(self, answers: dict[str, Principal | DomainError]) -> None:
        self.answers = answers
        self.calls: list[str | None] = []

    async def __call__(self, credential: str | None) -> Principal:
        self.calls.append(credential)
        answer = self.answers[credential or ""]
        if isinstance(answer, DomainError):
            raise answer
        return answer


class RecordingSocket:
    """Stands in for ChatSocket: what the registry reads and the close it asks for."""

    def __init__(self, credential: str, user_id: UUID) -> None:
        self.credential = credential
        self.principal = _principal(user_id, plan="free")
        self.closed = False
        self.failed_checks = 0
        self.closed_with: tuple[int, str] | None = None

    async def close(self, code: int, reason: str = "") -> None:
        self.closed = True
        self.closed_with = (code, reason)


def _principal(user_id: UUID, plan: str = "pro") -> Principal:
    return Principal(user_id=user_id, role="user", plan=plan, method="jwt")


async def test_a_revoked_token_closes_its_socket_with_4401_and_the_reason() -> None:
    user = uuid4()
    auth = ScriptedAuthenticate({"gone": TokenRevoked("revoked"), "fine": _principal(user)})
    registry = SocketRegistry(auth, recheck_s=60)
    revoked, valid = RecordingSocket("gone", user), RecordingSocket("fine", user)
    registry.add(revoked)  # type: ignore[arg-type]
    registry.add(valid)  # type: ignore[arg-type]

    await registry.recheck_all()

    assert revoked.closed_with == (4401, "TOKEN_REVOKED")
    assert valid.closed_with is None
    await registry.aclose()


async def test_a_disabled_account_closes_its_socket_too() -> None:
    auth = ScriptedAuthenticate({"t": AccountDisabled("disabled")})
    registry = SocketRegistry(auth, recheck_s=60)
    socket = RecordingSocket("t", uuid4())
    registry.add(socket)  # type: ignore[arg-type]

    await registry.recheck_all()

    assert socket.closed_with == (4401, "ACCOUNT_DISABLED")
    await registry.aclose()


async def test_a_revocation_store_unreachable_twice_in_a_row_fails_closed() -> None:
    auth = ScriptedAuthenticate({"t": TokenStoreUnavailable("down")})
    registry = SocketRegistry(auth, recheck_s=60)
    socket = RecordingSocket("t", uuid4())
    registry.add(socket)  # type: ignore[arg-type]

    await registry.recheck_all()
    assert socket.closed_with is None  # one period's grace for a blip

    await registry.recheck_all()
    assert socket.closed_with == (1013, "TOKEN_STORE_UNAVAILABLE")
    await registry.aclose()


async def test_a_successful_check_resets_the_grace_for_store_outages() -> None:
    user = uuid4()
    auth = ScriptedAuthenticate({"t": TokenStoreUnavailable("down")})
    registry = SocketRegistry(auth, recheck_s=60)
    socket = RecordingSocket("t", user)
    registry.add(socket)  # type: ignore[arg-type]

    await registry.recheck_all()
    auth.answers["t"] = _principal(user)
    await registry.recheck_all()
    auth.answers["t"] = TokenStoreUnavailable("down again")
    await registry.recheck_all()

    assert socket.closed_with is None
    await registry.aclose()


async def test_a_still_valid_socket_stays_open_and_sees_plan_changes() -> None:
    user = uuid4()
    auth = ScriptedAuthenticate({"t": _principal(user, plan="pro")})
    registry = SocketRegistry(auth, recheck_s=60)
    socket = RecordingSocket("t", user)
    registry.add(socket)  # type: ignore[arg-type]

    await registry.recheck_all()

    assert socket.closed_with is None
    assert socket.principal.plan == "pro"
    await registry.aclose()


async def test_closed_sockets_are_forgotten_without_asking_again() -> None:
    auth = ScriptedAuthenticate({})
    registry = SocketRegistry(auth, recheck_s=60)
    socket = RecordingSocket("t", uuid4())
    socket.closed = True
    registry.add(socket)  # type: ignore[arg-type]

    await registry.recheck_all()

    assert auth.calls == []
    assert len(registry) == 0
    await registry.aclose()


async def test_closing_the_registry_closes_every_socket_as_going_away() -> None:
    registry = SocketRegistry(ScriptedAuthenticate({}), recheck_s=60)
    socket = RecordingSocket("t", uuid4())
    registry.add(socket)  # type: ignore[arg-type]

    await registry.aclose()

    assert socket.closed_with == (1001, "SHUTTING_DOWN")


async def test_the_background_sweep_closes_a_revoked_socket_on_its_own() -> None:
    user = uuid4()
    auth = ScriptedAuthenticate({"t": _principal(user)})
    registry = SocketRegistry(auth, recheck_s=0.05)
    socket = RecordingSocket("t", user)
    registry.add(socket)  # type: ignore[arg-type]
    auth.answers["t"] = TokenRevoked("revoked")  # logout happens after the handshake

    for _ in range(200):  # bounded: the sweep covers every socket each 50 ms
        if socket.closed_with is not None:
            break
        await asyncio.sleep(0.01)

    assert socket.closed_with == (4401, "TOKEN_REVOKED")
    await registry.aclose()
