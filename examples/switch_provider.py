"""The provider is configuration, not code: this script prints the models it would use and
the default model's answer to one message. Switch it with the environment only:

    python examples/switch_provider.py ada@example.com       # the built-in fake model
    PARLEY_LLM_PROVIDER=openai PARLEY_LLM_BASE_URL=http://127.0.0.1:11434/v1 \\
    PARLEY_LLM_MODEL=llama3.2 python examples/switch_provider.py ada@example.com  # Ollama
"""

from __future__ import annotations

import asyncio
import sys

from application.chat.send_message import SendMessage, SendMessageCommand
from domain.catalog import ModelCatalog
from entrypoints.scripting import open_parley


async def main(email: str) -> None:
    async with open_parley() as parley:
        catalog = await parley.get(ModelCatalog)
        print("models:", ", ".join(catalog.ids()), "| default:", catalog.default_model)
        owner_id = await parley.user_id(email)
        send = await parley.get(SendMessage)
        sent = await send(SendMessageCommand(owner_id, None, "Say hello", wait=True))
        reply = sent.assistant_message
        print(f"{reply.model}: {reply.content}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
