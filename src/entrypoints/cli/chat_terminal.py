"""Terminal input and output for `parley chat`, kept apart from the chat logic.

Lines are read by a daemon thread, so waiting for the next line never blocks the event loop
(generations keep streaming) and never keeps the process alive at exit. Replies go to
stdout, raw: model output is data, never rich markup. Notices and errors go to stderr, so
piped output is exactly the replies.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.conversations import Conversation


class LineReader:
    """Lines from a text stream as an async source; None at end of input."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._wanted = threading.Event()
        threading.Thread(target=self._pump, name="parley-chat-stdin", daemon=True).start()

    async def next_line(self) -> str | None:
        self._wanted.set()
        return await self._lines.get()

    def _pump(self) -> None:
        while True:
            # Read only when asked: a line typed during a reply belongs to the next prompt.
            self._wanted.wait()
            self._wanted.clear()
            line = self._stream.readline()
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line or None)
            if not line:
                return


class Terminal:
    """Where `parley chat` writes: replies to ``out``, everything else to ``err``."""

    def __init__(self, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self._out = out
        self.interactive = sys.stdin.isatty() and out.isatty()
        self._err = Console(file=err, highlight=False, soft_wrap=True)
        self._console = Console(file=out, highlight=False, soft_wrap=True)

    def prompt(self) -> None:
        if self.interactive:
            self._err.print("[bold cyan]you >[/] ", end="")

    def reply_starts(self) -> None:
        if self.interactive:
            self._err.print("[bold magenta]parley >[/] ", end="")

    def token(self, text: str) -> None:
        self._out.write(text)
        self._out.flush()

    def reply_ends(self) -> None:
        self._out.write("\n")
        self._out.flush()

    def notice(self, text: str) -> None:
        self._err.print(Text(text, style="dim"))

    def error(self, code: str, detail: str) -> None:
        self._err.print(Text(f"error: {detail} ({code})", style="red"))

    def conversations(self, items: Sequence[Conversation]) -> None:
        if not items:
            self.notice("no conversations yet")
            return
        if not self._out.isatty():  # piped: one tab-separated line each, for scripts
            for c in items:
                row = (str(c.id), c.title, c.model, str(c.message_count), _when(c))
                self._out.write("\t".join(row) + "\n")
            return
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("id", "title", "model", "messages", "updated"):
            table.add_column(column, no_wrap=column in ("id", "updated"))
        for c in items:
            # Text(...) so a title like "[red]x" prints as typed, not as markup.
            table.add_row(
                str(c.id),
                Text(c.title),
                Text(c.model),
                str(c.message_count),
                _when(c),
            )
        self._console.print(table)


def _when(conversation: Conversation) -> str:
    return conversation.updated_at.strftime("%Y-%m-%d %H:%M")
