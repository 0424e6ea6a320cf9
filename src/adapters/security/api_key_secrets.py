"""API-key secrets: random url-safe tokens, stored as SHA-256 digests.

A plain (unsalted, fast) digest is right here, unlike for passwords: the secret has
256 bits of entropy, so it cannot be guessed, and the digest must be a direct index
lookup on every request.
"""

from __future__ import annotations

import hashlib
import secrets

from application.ports.api_key_secrets import ApiKeySecrets
from domain.api_keys import API_KEY_PREFIX

_RANDOM_BYTES = 32  # token_urlsafe(32) gives 43 characters
_DISPLAY_CHARS = 8


class Sha256ApiKeySecrets(ApiKeySecrets):
    def generate(self) -> str:
        return API_KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)

    def digest(self, key: str) -> str:
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def display_prefix(self, key: str) -> str:
        return key[: len(API_KEY_PREFIX) + _DISPLAY_CHARS]
