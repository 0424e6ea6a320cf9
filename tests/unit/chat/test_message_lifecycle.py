"""A reply's status only moves forward: streaming -> complete | cancelled | failed, once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.conversations import DEFAULT_TITLE, Conversation, InvalidTitle
from domain.messages import (
    TRANSITIONS,
    EmptyMessage,
    InvalidMessageTransition,
    Message,
    MessageStatus,
    MessageTooLong,
    TokenUsage,
    check_content,
    pending_reply,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def reply() -> Message:
    return pending_reply(
        id=uuid4(), conversation_id=uuid4(), model="m", generation_id=uuid4(), now=NOW, position=1
    )


def finish(message: Message, status: MessageStatus) -> None:
    if status is MessageStatus.COMPLETE:
        message.complete("text", TokenUsage(1, 2), Decimal("0.5"))
    elif status is MessageStatus.CANCELLED:
        message.cancel("te", None, Decimal(0))
    elif status is MessageStatus.FAILED:
        message.fail("t", "PROVIDER_UNAVAILABLE")


FINAL = [MessageStatus.COMPLETE, MessageStatus.CANCELLED, MessageStatus.FAILED]


@pytest.mark.parametrize("status", FINAL)
def test_a_streaming_reply_can_finish_in_each_final_status(status: MessageStatus) -> None:
    message = reply()
    finish(message, status)
    assert message.status is status
    assert message.is_finished


@pytest.mark.parametrize("first", FINAL)
@pytest.mark.parametrize("second", FINAL)
def test_a_finished_reply_never_changes_status_again(
    first: MessageStatus, second: MessageStatus
) -> None:
    message = reply()
    finish(message, first)
    with pytest.raises(InvalidMessageTransition):
        finish(message, second)
    assert message.status is first


def test_the_transition_table_only_leaves_streaming() -> None:
    assert TRANSITIONS[MessageStatus.STREAMING] == set(FINAL)
    assert all(not TRANSITIONS[s] for s in FINAL)


def test_a_failed_reply_keeps_its_partial_text_and_error_code() -> None:
    message = reply()
    message.fail("partial", "PROVIDER_TIMEOUT")
    assert (message.content, message.error_code) == ("partial", "PROVIDER_TIMEOUT")


def test_content_over_the_limit_is_too_long_and_blank_content_is_empty() -> None:
    check_content("x" * 10, 10)
    with pytest.raises(MessageTooLong) as too_long:
        check_content("x" * 11, 10)
    assert too_long.value.code == "MESSAGE_TOO_LONG"
    with pytest.raises(EmptyMessage):
        check_content(" \n\t", 10)


def test_an_untitled_conversation_is_named_after_its_first_message_only() -> None:
    conversation = Conversation.start(id=uuid4(), owner_id=uuid4(), model="m", now=NOW)
    assert conversation.title == DEFAULT_TITLE
    conversation.title_from_first_message("  How do   I bake\nbread? " + "x" * 200)
    assert conversation.title.startswith("How do I bake bread?")
    assert len(conversation.title) == 80
    conversation.message_count = 2
    conversation.title_from_first_message("second")
    assert conversation.title.startswith("How do")


def test_a_given_title_is_kept_and_a_blank_one_refused() -> None:
    conversation = Conversation.start(
        id=uuid4(), owner_id=uuid4(), model="m", now=NOW, title="Mine"
    )
    conversation.title_from_first_message("hello")
    assert conversation.title == "Mine"
    with pytest.raises(InvalidTitle):
        conversation.rename("   ")
