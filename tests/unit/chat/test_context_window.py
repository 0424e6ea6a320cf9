"""The prompt is the system prompt plus the newest history that fits, in order."""

from __future__ import annotations

import pytest

from adapters.system.tokenizer import EstimatingTokenizer
from domain.context_window import ContextTooLong, Turn, fit_context

TOKENS = EstimatingTokenizer()


def history(n: int, size: int = 30) -> list[Turn]:
    return [Turn("user" if i % 2 == 0 else "assistant", f"{i:03d}" + "x" * size) for i in range(n)]


def test_everything_fits_in_a_large_window() -> None:
    turns = history(6)
    fitted = fit_context(
        system_prompt="Be brief.",
        history=turns,
        new_message=Turn("user", "now"),
        context_window=8192,
        max_tokens=1024,
        counter=TOKENS,
    )
    assert fitted.turns == [Turn("system", "Be brief."), *turns, Turn("user", "now")]
    assert fitted.dropped == 0


def test_the_oldest_turns_are_dropped_first_and_order_is_kept() -> None:
    turns = history(40)
    fitted = fit_context(
        system_prompt="S",
        history=turns,
        new_message=Turn("user", "latest"),
        context_window=300,
        max_tokens=100,
        counter=TOKENS,
    )
    kept = fitted.turns[1:-1]
    assert fitted.turns[0] == Turn("system", "S") and fitted.turns[-1] == Turn("user", "latest")
    assert 0 < len(kept) < 40 and fitted.dropped == 40 - len(kept)
    assert kept == turns[-len(kept) :]
    assert fitted.prompt_tokens <= 300 - 100


def test_the_prompt_plus_max_tokens_never_exceeds_the_window() -> None:
    for window in range(120, 600, 37):
        fitted = fit_context(
            system_prompt="system prompt",
            history=history(50),
            new_message=Turn("user", "q"),
            context_window=window,
            max_tokens=64,
            counter=TOKENS,
        )
        assert fitted.prompt_tokens + 64 <= window


def test_a_message_that_cannot_fit_even_alone_is_refused() -> None:
    with pytest.raises(ContextTooLong) as refused:
        fit_context(
            system_prompt="S",
            history=[],
            new_message=Turn("user", "x" * 3000),
            context_window=1000,
            max_tokens=200,
            counter=TOKENS,
        )
    assert refused.value.code == "CONTEXT_WINDOW_EXCEEDED"


def test_the_estimate_errs_high_for_prose_and_for_non_latin_text() -> None:
    prose = "The quick brown fox jumps over the lazy dog. " * 20
    assert TOKENS.count_text(prose) >= len(prose) / 4  # BPE averages about 4 chars a token
    assert TOKENS.count_text("你好世界") == 4  # CJK: about one token per character
    assert TOKENS.count_message("user", "") > 0  # framing is never free
