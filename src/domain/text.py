"""Rules every stored or searched text obeys, whatever the transport or the database.

U+0000 (NUL) is refused everywhere: PostgreSQL cannot store it in text columns, and a
reply that depends on which database is configured would be a bug, so SQLite refuses it
too. It has no use in chat text.
"""

from __future__ import annotations

from domain.errors import InvalidInput

NUL = "\x00"


class ContainsNul(InvalidInput):
    title = "Text contains a NUL character"


def refuse_nul(value: str | None, field: str) -> None:
    if value is not None and NUL in value:
        raise ContainsNul(
            f"{field} must not contain the NUL character (U+0000)",
            details={"fields": [{"field": field, "message": "contains U+0000"}]},
        )
