"""`parley chat`: chat from the terminal as one of the accounts, replies streamed live.

The same path as every other transport: SendMessage starts a turn (in a new conversation
when none is open), ResumeGeneration reads its events from the generation log,
CancelGeneration stops it (Ctrl-C while a reply streams). Conversations are the ones the
API and the playground show. Lines come from stdin, so it works piped too:
``echo "hello" | parley chat --user me@example.com``.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import typer
from dishka import AsyncContainer

from application.chat.cancel_generation import CancelGeneration
from application.chat.get_conversation import GetConversation
from application.chat.list_conversations import ListConversations, ListConversationsQuery
from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand
from domain.errors import DomainError
from entrypoints.cli.chat_terminal import LineReader, Terminal
from entrypoints.cli.runtime import run_with_container, user_by_email
from entrypoints.settings import Settings

HELP = "commands: /new (start a new conversation), /quit (or end of input), /help"


class TerminalChat:
    """One account's chat session at the terminal."""

    def __init__(
        self, container: AsyncContainer, owner_id: UUID, model: str | None, term: Terminal
    ) -> None:
        self._container = container
        self._owner = owner_id
        self._model = model
        self._term = term
        self.conversation_id: UUID | None = None

    async def show_conversations(self) -> None:
        async with self._container() as request:
            use_case = await request.get(ListConversations)
            page = await use_case(ListConversationsQuery(self._owner, limit=100))
        self._term.conversations(page.items)

    async def resume(self, conversation_id: UUID) -> None:
        async with self._container() as request:
            conversation = await (await request.get(GetConversation))(self._owner, conversation_id)
        self.conversation_id = conversation.id
        self._term.notice(
            f"continuing {conversation.title!r} ({conversation.message_count} messages)"
        )

    async def run(self, lines: LineReader) -> None:
        self._term.notice(HELP)
        while True:
            self._term.prompt()
            line = await lines.next_line()
            if line is None:
                return
            text = line.strip()
            if text in ("/quit", "/exit"):
                return
            if text == "/new":
                self.conversation_id = None
                self._term.notice("the next message starts a new conversation")
            elif text.startswith("/"):
                self._term.notice(HELP)
            elif text:
                await self._turn_or_report(line.rstrip("\r\n"))

    async def _turn_or_report(self, content: str) -> None:
        try:
            await self.turn(content)
        except DomainError as exc:  # a refused message ends the turn, not the session
            self._term.error(exc.code, exc.detail)

    async def turn(self, content: str) -> None:
        async with self._container() as request:
            send = await request.get(SendMessage)
            sent = await send(
                SendMessageCommand(self._owner, self.conversation_id, content, model=self._model)
            )
            if sent.created:
                self._term.notice(f"conversation {sent.conversation.id}")
            self.conversation_id = sent.conversation.id
            resume = await request.get(ResumeGeneration)
            events = await resume(
                ResumeGenerationQuery(
                    self._owner, self.conversation_id, sent.generation_id, sent.start_event_id
                )
            )
            self._term.reply_starts()
            with _ctrl_c_cancels(lambda: self._cancel(sent.generation_id)):
                async for event in events:
                    if event.kind == "delta":
                        self._term.token(event.data["content"])
                    elif event.kind in ("done", "error"):
                        self._term.reply_ends()
                    if event.kind == "done" and event.data["message"]["status"] == "cancelled":
                        self._term.notice("(cancelled)")
                    if event.kind == "error":
                        self._term.error(event.data["code"], event.data["detail"])

    async def _cancel(self, generation_id: UUID) -> None:
        async with self._container() as request:
            cancel = await request.get(CancelGeneration)
            await cancel(self._owner, self.conversation_id, generation_id)


@contextmanager
def _ctrl_c_cancels(cancel: Callable[[], Coroutine[Any, Any, None]]) -> Iterator[None]:
    """While a reply streams, Ctrl-C cancels it (stored as ``cancelled``) instead of exiting."""
    loop = asyncio.get_running_loop()
    started: list[asyncio.Task[None]] = []  # holds the task until the reply has ended

    def interrupted() -> None:
        loop.remove_signal_handler(signal.SIGINT)
        started.append(loop.create_task(cancel()))

    try:
        loop.add_signal_handler(signal.SIGINT, interrupted)
    except (NotImplementedError, RuntimeError, ValueError):  # no signals here (not main thread)
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def chat(
    user: str = typer.Option(..., "--user", help="Email of the account to chat as."),
    conversation: str | None = typer.Option(
        None, "--conversation", help="Continue this conversation (its id)."
    ),
    model: str | None = typer.Option(None, "--model", help="Model id (default: the catalog's)."),
    list_only: bool = typer.Option(False, "--list", help="List the account's conversations."),
) -> None:
    """Chat with a model in the terminal (or from a pipe); replies stream as they come."""
    conversation_id = _uuid_or_exit(conversation)

    async def work(container: AsyncContainer, settings: Settings) -> None:
        term = Terminal()
        session = TerminalChat(container, (await user_by_email(container, user)).id, model, term)
        if list_only:
            await session.show_conversations()
            return
        if conversation_id is not None:
            await session.resume(conversation_id)
        await session.run(LineReader(sys.stdin))

    run_with_container(work)


def _uuid_or_exit(value: str | None) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(value)
    except ValueError:
        typer.secho(f"error: {value!r} is not a conversation id", fg="red", err=True)
        raise typer.Exit(2) from None
