"""Search one user's message history: `python examples/search_history.py ada@example.com
lisbon` prints the best matches, newest index state first (the index is caught up from the
database before searching, as `parley search` does)."""

from __future__ import annotations

import asyncio
import sys

from application.search.catch_up import CatchUpIndex
from application.search.search_messages import SearchMessages, SearchMessagesQuery
from entrypoints.scripting import open_parley


async def main(email: str, text: str) -> None:
    async with open_parley() as parley:
        owner_id = await parley.user_id(email)
        await (await parley.get(CatchUpIndex))(load_file=True)
        search = await parley.get(SearchMessages)
        for hit in await search(SearchMessagesQuery(owner_id, text, mode="hybrid", limit=5)):
            print(f"{hit.score:.4f} {hit.message.role.value}: {hit.message.content[:80]}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
