"""Stop a running generation; what was streamed so far is kept as a ``cancelled`` reply."""

from __future__ import annotations

from uuid import UUID

from application.chat.generation_runner import GenerationRunner
from application.chat.resume_generation import owned_generation
from application.ports.generation_log import GenerationLog


class CancelGeneration:
    """Business rules:
    - only the owner may cancel, under the generation's own conversation (else "not found");
    - it works from any instance: the request goes through the log's cancel signal (and
      straight to the runner when the generation runs in this process);
    - cancelling a finished generation changes nothing (idempotent).
    """

    def __init__(self, log: GenerationLog, runner: GenerationRunner) -> None:
        self._log = log
        self._runner = runner

    async def __call__(
        self, owner_id: UUID, conversation_id: UUID | None, generation_id: UUID
    ) -> None:
        await owned_generation(self._log, owner_id, conversation_id, generation_id)
        self._runner.stop(generation_id, "cancel")
        await self._log.request_cancel(generation_id)
