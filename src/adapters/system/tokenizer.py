"""A vocabulary-free token estimate that errs on the side of counting more.

It lives with the other pure adapters: a real tokenizer (tiktoken, a model's own) can serve
the same ``Tokenizer`` port later without the application noticing.

How it errs, and why: an over-count only drops an old turn from the prompt a little early,
an under-count overflows the model's window and fails the request. So:
- ASCII text counts one token per 3 characters (BPE tokenizers average about 4 for English
  prose; code, numbers and punctuation are denser, 3 covers them);
- every non-ASCII character counts as a whole token (CJK is about one token per character,
  accented Latin text far less, emoji more than one byte but rarely more than one token
  per character);
- every message adds 4 tokens of chat framing (role, separators) and every prompt 3 for
  priming the reply, as OpenAI's chat format does.
For usage accounting without a provider-reported count, this over-states a little.
"""

from __future__ import annotations

from application.ports.tokenizer import Tokenizer
from domain.usage import estimate_tokens

MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3


class EstimatingTokenizer(Tokenizer):
    def count_text(self, text: str) -> int:
        return estimate_tokens(text)

    def count_message(self, role: str, content: str) -> int:
        return MESSAGE_OVERHEAD + self.count_text(role) // 2 + self.count_text(content)

    def count_reply_priming(self) -> int:
        return REPLY_PRIMING
