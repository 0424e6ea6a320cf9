"""Create an account from a script: `python examples/create_user.py ada@example.com`.

The password comes from PARLEY_EXAMPLE_PASSWORD (never a command-line argument, which other
users of the machine can read). Prints the new account's id.
"""

from __future__ import annotations

import asyncio
import os
import sys

from application.identity.create_user import CreateUser, CreateUserCommand
from entrypoints.scripting import open_parley


async def main(email: str) -> None:
    async with open_parley() as parley:
        create = await parley.get(CreateUser)
        user = await create(CreateUserCommand(email, os.environ["PARLEY_EXAMPLE_PASSWORD"]))
        print(user.id)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
