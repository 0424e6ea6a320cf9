"""Send one chat turn as a user and print the reply as it streams:
`python examples/chat_turn.py ada@example.com "Plan a day in Lisbon"`.

The turn starts a new conversation (its id is printed first); the reply's events are read
from the generation log, the same events SSE and WebSocket clients get.
"""

from __future__ import annotations

import asyncio
import sys

from application.chat.resume_generation import ResumeGeneration, ResumeGenerationQuery
from application.chat.send_message import SendMessage, SendMessageCommand
from entrypoints.scripting import open_parley


async def main(email: str, text: str) -> None:
    async with open_parley() as parley:
        owner_id = await parley.user_id(email)
        send = await parley.get(SendMessage)
        sent = await send(SendMessageCommand(owner_id, None, text))
        print(f"conversation {sent.conversation.id}")
        resume = await parley.get(ResumeGeneration)
        query = ResumeGenerationQuery(owner_id, sent.conversation.id, sent.generation_id)
        async for event in await resume(query):
            if event.kind == "delta":
                print(event.data["content"], end="", flush=True)
            elif event.kind == "error":
                print(f"\nerror: {event.data['code']}", file=sys.stderr)
        print()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
