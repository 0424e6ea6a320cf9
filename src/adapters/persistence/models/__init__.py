"""ORM models. Importing this package registers every table on ``metadata``."""

from adapters.persistence.models import chat, health, identity, jobs, notifications, search, usage
from adapters.persistence.models.base import metadata

__all__ = [
    "chat",
    "health",
    "identity",
    "jobs",
    "metadata",
    "notifications",
    "search",
    "usage",
]
