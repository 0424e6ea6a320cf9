"""Provider failures beyond the port's basic set."""

from __future__ import annotations

from domain.errors import UpstreamError


class ProviderRejected(UpstreamError):
    """The provider refused Parley itself (bad key, unknown upstream model): a configuration
    problem, not the caller's fault. Retrying will not help; a fallback model may."""

    code = "PROVIDER_REJECTED"
    title = "LLM provider rejected Parley's request"
