"""CreateApiKey: a new long-lived key for the caller, shown once."""

from __future__ import annotations

from dataclasses import dataclass

from application.identity.principal import Principal
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.clock import Clock
from application.ports.ids import IdGenerator
from application.ports.unit_of_work import UnitOfWork
from domain.api_keys import ApiKey, clean_key_name


@dataclass(frozen=True, slots=True)
class CreateApiKeyCommand:
    principal: Principal
    name: str


@dataclass(frozen=True, slots=True)
class CreatedApiKey:
    key: ApiKey
    secret: str


class CreateApiKey:
    """Business rules:
    - the key belongs to the caller, whatever the request says;
    - the secret is ``pk_`` plus at least 32 random url-safe characters, returned once;
      only its SHA-256 digest and a short display prefix are stored.
    """

    def __init__(
        self, uow: UnitOfWork, secrets: ApiKeySecrets, clock: Clock, ids: IdGenerator
    ) -> None:
        self._uow = uow
        self._secrets = secrets
        self._clock = clock
        self._ids = ids

    async def __call__(self, command: CreateApiKeyCommand) -> CreatedApiKey:
        name = clean_key_name(command.name)
        secret = self._secrets.generate()
        key = ApiKey(
            id=self._ids.new_id(),
            user_id=command.principal.user_id,
            name=name,
            prefix=self._secrets.display_prefix(secret),
            key_hash=self._secrets.digest(secret),
            created_at=self._clock.now(),
        )
        async with self._uow as uow:
            await uow.api_keys.add(key)
            await uow.commit()
        return CreatedApiKey(key=key, secret=secret)
