"""Token counting for context windows and for usage when a provider reports none."""

from __future__ import annotations

from abc import abstractmethod
from typing import Protocol

from domain.context_window import TokenCounter


class Tokenizer(TokenCounter, Protocol):
    """Counts tokens the way the model would, or errs on the side of counting more: an
    over-count only drops an old turn early, an under-count overflows the model's window."""

    @abstractmethod
    def count_text(self, text: str) -> int: ...

    @abstractmethod
    def count_message(self, role: str, content: str) -> int: ...

    @abstractmethod
    def count_reply_priming(self) -> int: ...
