"""Typed, grouped settings: defaults, then an optional ``parley.toml``, then ``PARLEY_*`` env.

Read once at startup (``load_settings``) and passed into the container; nothing here runs at
import time. A group field maps to ``PARLEY_<GROUP>_<FIELD>`` (``database.url`` is
``PARLEY_DATABASE_URL``); a top-level field to ``PARLEY_<FIELD>`` (``PARLEY_SECRET_KEY``).
A bad value fails fast with a message that names the variable it came from.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from msgspec import Meta, Struct, field

from application.usage.limit_strings import parse_limit_string
from entrypoints.usage_settings import (
    CacheSettings,
    LimitsSettings,
    MetricsSettings,
    PlanSettings,
    UsageSettings,
    default_plans,
)

DEFAULT_SECRET_KEY = "dev-insecure-change-me-0123456789abcdef"


class SettingsError(ValueError):
    """A configuration value is missing or invalid; the message names the variable."""


def _doc(text: str) -> Meta:
    return Meta(description=text)


class DatabaseSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, _doc("SQLAlchemy async URL; empty means SQLite under data_dir.")] = ""
    pool_size: Annotated[int, _doc("Connections kept per process (PostgreSQL)."), Meta(ge=1)] = 10
    max_overflow: Annotated[int, _doc("Extra connections under burst."), Meta(ge=0)] = 20
    connect_timeout_s: Annotated[float, _doc("Give up connecting after this."), Meta(gt=0)] = 1.0
    command_timeout_s: Annotated[
        float,
        _doc(
            "Longest wait for one statement's answer (PostgreSQL): a frozen or overloaded "
            "server then gives 503 instead of a hang. Migrations are not bounded by it."
        ),
        Meta(gt=0),
    ] = 1.5
    pool_timeout_s: Annotated[
        float, _doc("Wait this long for a free pooled connection under load."), Meta(gt=0)
    ] = 10.0
    echo: Annotated[bool, _doc("Log every SQL statement (development only).")] = False


class RedisSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, _doc("redis:// URL; empty means in-process adapters.")] = ""
    key_prefix: Annotated[str, _doc("Prefix for every key Parley writes.")] = "parley:"
    socket_timeout_s: Annotated[float, _doc("Per-command timeout."), Meta(gt=0)] = 1.0
    max_connections: Annotated[
        int,
        _doc("Connections for ordinary commands (per process); a burst waits for one."),
        Meta(ge=1),
    ] = 256
    pool_wait_s: Annotated[
        float, _doc("Wait this long for a free pooled connection under load."), Meta(gt=0)
    ] = 5.0
    max_stream_readers: Annotated[
        int,
        _doc(
            "Connections for blocking stream reads: one serves every live SSE/WebSocket "
            "stream of the process (a second only while the first is replaced)."
        ),
        Meta(ge=1),
    ] = 2
    idle_close_s: Annotated[
        float,
        _doc("Close pooled connections left idle this long (pools shrink after a burst)."),
        Meta(gt=0),
    ] = 60.0


class AuthSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    access_ttl_s: Annotated[int, _doc("Access-token lifetime (≤ 900)."), Meta(ge=30, le=900)] = 900
    refresh_ttl_s: Annotated[int, _doc("Refresh-token idle lifetime."), Meta(ge=60)] = 14 * 86400
    session_max_age_s: Annotated[
        int, _doc("Absolute lifetime of a login session (refresh family)."), Meta(ge=60)
    ] = 30 * 86400
    issuer: Annotated[str, _doc("JWT `iss` claim.")] = "parley"
    audience: Annotated[str, _doc("JWT `aud` claim.")] = "parley-api"
    login_per_account_per_minute: Annotated[int, _doc("Login attempts per email."), Meta(ge=1)] = 10
    login_per_ip_per_minute: Annotated[int, _doc("Login attempts per client IP."), Meta(ge=1)] = 30
    argon2_memory_kib: Annotated[int, _doc("argon2id memory (≥ 19456)."), Meta(ge=19456)] = 19456
    argon2_time_cost: Annotated[int, _doc("argon2id iterations (≥ 2)."), Meta(ge=2)] = 2
    default_plan: Annotated[str, _doc("Plan of newly registered users.")] = "free"


class HttpSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    cors_origins: Annotated[list[str], _doc("Allowed browser origins (comma-separated).")] = field(
        default_factory=list
    )
    cors_allow_credentials: Annotated[bool, _doc("Send Access-Control-Allow-Credentials.")] = False
    max_body_bytes: Annotated[int, _doc("Largest accepted request body."), Meta(ge=1024)] = (
        1_048_576
    )
    trusted_proxies: Annotated[
        list[str], _doc("Peers whose X-Forwarded-For is believed (IPs or CIDRs).")
    ] = field(default_factory=list)
    docs_enabled: Annotated[
        bool | None, _doc("Serve /docs and /schema; default: on except in production.")
    ] = None
    admission_slots: Annotated[
        int,
        _doc("Requests authenticating at once (per process); more queue for a slot."),
        Meta(ge=1),
    ] = 32
    admission_queue: Annotated[
        int,
        _doc("Requests that may queue for a slot; one more is refused (503 SERVER_BUSY)."),
        Meta(ge=0),
    ] = 4000
    admission_wait_s: Annotated[
        float, _doc("A queued request waits this long at most, then 503 SERVER_BUSY."), Meta(gt=0)
    ] = 10.0


class LLMSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    provider: Annotated[Literal["fake", "openai"], _doc("Default provider kind.")] = "fake"
    base_url: Annotated[str, _doc("OpenAI-compatible base URL (openai provider).")] = ""
    api_key: Annotated[str, _doc("API key for the openai provider.")] = ""
    model: Annotated[str, _doc("Default model id for new conversations.")] = "parley-fake"
    context_window: Annotated[int, _doc("Default model context window (tokens)."), Meta(ge=256)] = (
        8192
    )
    max_tokens: Annotated[int, _doc("Server cap on completion tokens."), Meta(ge=1)] = 1024
    request_timeout_s: Annotated[float, _doc("Total upstream time budget."), Meta(gt=0)] = 120.0
    first_token_timeout_s: Annotated[float, _doc("Wait for the first token."), Meta(gt=0)] = 30.0
    idle_timeout_s: Annotated[float, _doc("Longest gap between chunks."), Meta(gt=0)] = 30.0
    max_retries: Annotated[
        int, _doc("Retries on 5xx, timeouts, connection errors."), Meta(ge=0)
    ] = 2
    connect_timeout_s: Annotated[float, _doc("Connect to the upstream within."), Meta(gt=0)] = 5.0
    retry_backoff_s: Annotated[
        float, _doc("First retry delay; doubles each retry, with jitter."), Meta(ge=0)
    ] = 0.25
    max_retry_after_s: Annotated[
        float, _doc("Longest upstream Retry-After honoured before failing over."), Meta(ge=0)
    ] = 5.0
    mid_stream_failure: Annotated[
        Literal["error", "fallback"],
        _doc(
            "A stream failing after its first token: end with an error, or continue on "
            "the fallback model."
        ),
    ] = "error"
    breaker_failure_ratio: Annotated[
        float, _doc("Failure ratio that opens a provider's circuit."), Meta(gt=0, le=1)
    ] = 0.5
    breaker_min_calls: Annotated[
        int, _doc("Calls in the window before the breaker may open."), Meta(ge=1)
    ] = 5
    breaker_window_s: Annotated[float, _doc("Rolling window of the breaker."), Meta(gt=0)] = 30.0
    breaker_cooldown_s: Annotated[
        float, _doc("Open circuit waits this long before a half-open probe."), Meta(gt=0)
    ] = 15.0
    max_response_chars: Annotated[
        int, _doc("Largest upstream reply accepted (bounds endless streams)."), Meta(ge=1)
    ] = 400_000
    max_request_messages: Annotated[
        int, _doc("Most messages accepted in one /v1 completion request."), Meta(ge=1)
    ] = 512


class FakeLLMSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    ttft_ms: Annotated[int, _doc("Delay before the first token."), Meta(ge=0)] = 0
    gap_ms: Annotated[int, _doc("Delay between tokens."), Meta(ge=0)] = 0
    fail_after: Annotated[
        int, _doc("Fail after this many tokens (-1: never); for demos and tests."), Meta(ge=-1)
    ] = -1
    reply: Annotated[str, _doc("Fixed reply; empty: a deterministic reply from the prompt.")] = ""


class EmbeddingsSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    provider: Annotated[Literal["hashing", "openai"], _doc("Embedder kind.")] = "hashing"
    dim: Annotated[int, _doc("Hashing embedder dimension."), Meta(ge=16)] = 384
    model: Annotated[str, _doc("Model id for the openai embedder (its vectors have `dim`).")] = (
        "text-embedding-3-small"
    )
    base_url: Annotated[str, _doc("OpenAI-compatible base URL; empty: PARLEY_LLM_BASE_URL.")] = ""
    api_key: Annotated[str, _doc("API key for the embeddings endpoint; empty: the LLM key.")] = ""
    batch_size: Annotated[int, _doc("Texts per embeddings request."), Meta(ge=1, le=2048)] = 64
    timeout_s: Annotated[float, _doc("Embeddings request timeout."), Meta(gt=0)] = 30.0
    # Where an HNSW graph starts to cost less per query than an exact scan, measured with
    # `bench/search.py --crossover` (exact 44 µs vs graph 61 µs at 1k vectors, 81 vs 67 µs
    # at 1.5k); with the int8 graphs, 2048 measured level with 1024 and 3072 slower. The
    # lower end is taken because that measurement scans a hot cache; in a process serving
    # many users the scan's rows are colder and cost more.
    exact_search_max: Annotated[
        int, _doc("Per user and role, exact search up to this size; HNSW above."), Meta(ge=0)
    ] = 1024
    queue_size: Annotated[
        int, _doc("Messages waiting to be indexed; beyond it they wait for catch-up."), Meta(ge=1)
    ] = 10_000
    sync_interval_s: Annotated[
        float, _doc("Catch up with vectors other processes wrote this often."), Meta(gt=0)
    ] = 30.0
    hnsw_expansion_search: Annotated[
        int, _doc("HNSW search breadth for large users (recall vs speed)."), Meta(ge=10)
    ] = 96  # bench/search.py reaches recall@10 0.99 at 61 with the int8 graphs; 96 leaves
    # room for data less clustered than the benchmark's


class ChatSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    max_message_chars: Annotated[int, _doc("Longest accepted message."), Meta(ge=1)] = 32_000
    keepalive_s: Annotated[float, _doc("SSE keep-alive comment interval."), Meta(gt=0)] = 15.0
    generation_log_ttl_s: Annotated[int, _doc("How long a finished stream stays resumable.")] = 3600
    generation_log_max_events: Annotated[
        int, _doc("Events kept per generation (older ones are trimmed)."), Meta(ge=100)
    ] = 10_000
    history_messages: Annotated[
        int, _doc("Recent messages considered when fitting the context window."), Meta(ge=1)
    ] = 200
    lease_s: Annotated[
        float,
        _doc(
            "A streaming reply whose lease lapses is an orphan (its process died): its "
            "instance renews all its leases every third of this, in one statement, and every "
            "instance sweeps lapsed ones as often, so a killed instance's readers get their "
            "final event within about 1.4 times this."
        ),
        Meta(ge=1),
    ] = 5.0
    shutdown_grace_s: Annotated[
        float,
        _doc(
            "On SIGTERM, new turns are refused (503) and running replies get this long to "
            "finish; the rest are stopped, stored as streamed (`failed`, `INTERRUPTED`) and "
            "their streams end with that as the final event. Keep it below the orchestrator's "
            "stop timeout minus a few seconds."
        ),
        Meta(ge=0),
    ] = 5.0
    cancel_poll_s: Annotated[
        float, _doc("How often a runner checks Redis for cancel requests."), Meta(gt=0)
    ] = 0.25
    turns_storing_at_once: Annotated[
        int,
        _doc("Turns inside their storage transaction at once (per process); more queue."),
        Meta(ge=1),
    ] = 16
    turn_queue: Annotated[
        int,
        _doc("Turns that may queue to be stored; one more is refused (503 SERVER_BUSY)."),
        Meta(ge=0),
    ] = 2000
    turn_queue_wait_s: Annotated[
        float, _doc("A queued turn waits this long at most, then 503 SERVER_BUSY."), Meta(gt=0)
    ] = 30.0


class WebSocketSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """/api/v1/ws limits; the socket closes or answers an ``error`` frame."""

    max_frame_bytes: Annotated[
        int,
        _doc("Largest accepted WebSocket frame; a larger one closes the socket (1009)."),
        Meta(ge=1024),
    ] = 262_144
    messages_per_minute: Annotated[
        int, _doc("Frames one user may send per minute, over all their sockets."), Meta(ge=1)
    ] = 600
    max_streams_per_socket: Annotated[
        int, _doc("Requests streaming at once on one socket."), Meta(ge=1)
    ] = 32
    auth_timeout_s: Annotated[
        float, _doc("Without ?token, wait this long for the first `auth` frame."), Meta(gt=0)
    ] = 10.0
    recheck_s: Annotated[
        float,
        _doc(
            "Re-check each socket's credential this often: the safety net for a revocation "
            "push lost while the event bus reconnects (revocations are pushed at once)."
        ),
        Meta(gt=0),
    ] = 120.0


class JobsSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Background jobs: the embedded pool inside `parley serve`, or `parley worker` (Redis)."""

    concurrency: Annotated[
        int,
        _doc("Jobs run at once by the in-process pool of `parley serve` (no Redis)."),
        Meta(ge=1),
    ] = 4
    max_attempts: Annotated[
        int, _doc("Attempts before a failing job is stored `failed`."), Meta(ge=1, le=20)
    ] = 3
    retry_delay_s: Annotated[
        float, _doc("Delay before the second attempt; doubled each time."), Meta(ge=0)
    ] = 2.0
    retry_max_delay_s: Annotated[float, _doc("Longest delay between attempts."), Meta(ge=0)] = 60.0
    lease_s: Annotated[
        float,
        _doc("A running job whose worker sends no heartbeat for this long is retried."),
        Meta(ge=1),
    ] = 30.0
    heartbeat_s: Annotated[
        float, _doc("Lease renewal and cancel check interval of a running job."), Meta(gt=0)
    ] = 0.5
    timeout_s: Annotated[int, _doc("Longest a job may run."), Meta(ge=1)] = 3600
    auto_titles: Annotated[
        bool,
        _doc(
            "Title a new conversation in the background after its first exchange (spends tokens)."
        ),
    ] = True
    sweep_interval_s: Annotated[
        int, _doc("How often lost jobs (dead workers, lost enqueues) are looked for."), Meta(ge=1)
    ] = 5
    requeue_after_s: Annotated[
        float,
        _doc("A job queued longer than this is delivered again (a lost enqueue)."),
        Meta(ge=1),
    ] = 30.0
    shutdown_grace_s: Annotated[
        int,
        _doc("On stop, `parley worker` lets running jobs finish this long, then requeues."),
        Meta(ge=0),
    ] = 5
    queue_name: Annotated[str, _doc("Redis queue name (after PARLEY_REDIS_KEY_PREFIX).")] = "jobs"


class ContextSourceSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """One ``[context_sources.<name>]`` table: a service asked before each grounded turn."""

    kind: Annotated[Literal["http", "history"], _doc("`http`: a URL; `history`: own past prompts.")]
    url: Annotated[str, _doc("http: the URL to POST to (the only one ever called).")] = ""
    timeout_ms: Annotated[
        int, _doc("Give up on this source after this."), Meta(ge=1, le=60_000)
    ] = 2000
    headers_env: Annotated[
        dict[str, str],
        _doc("http: header name -> environment variable holding its value (secrets stay out)."),
    ] = field(default_factory=dict)
    max_bytes: Annotated[
        int, _doc("http: the largest answer read; bigger is a failure."), Meta(ge=1)
    ] = 256 * 1024
    limit: Annotated[int, _doc("history: past prompts quoted at most."), Meta(ge=1, le=20)] = 3


class HealthSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Periodic health checks kept as history (GET /api/v1/admin/health-history)."""

    history_interval_s: Annotated[
        float,
        _doc("Check every component this often; one check per interval over all instances."),
        Meta(gt=0),
    ] = 60.0
    history_retention_days: Annotated[
        float, _doc("Drop recorded checks older than this."), Meta(gt=0)
    ] = 7.0
    history_enabled: Annotated[bool, _doc("Record health history while serving.")] = True


class ProviderSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """One upstream in ``[providers.<name>]``; unset timeouts fall back to ``[llm]``."""

    kind: Annotated[Literal["fake", "openai"], _doc("Adapter that serves this provider.")] = (
        "openai"
    )
    base_url: Annotated[str, _doc("OpenAI-compatible base URL (…/v1).")] = ""
    api_key_env: Annotated[
        str, _doc("NAME of the environment variable holding the key (never the key).")
    ] = ""
    connect_timeout_s: Annotated[float, Meta(gt=0)] | None = None
    request_timeout_s: Annotated[float, Meta(gt=0)] | None = None
    first_token_timeout_s: Annotated[float, Meta(gt=0)] | None = None
    idle_timeout_s: Annotated[float, Meta(gt=0)] | None = None
    max_retries: Annotated[int, Meta(ge=0)] | None = None
    ttft_ms: Annotated[int, Meta(ge=0)] | None = None  # fake kind: delay before the first token
    gap_ms: Annotated[int, Meta(ge=0)] | None = None  # fake kind: delay between tokens
    fail_after: Annotated[int, Meta(ge=-1)] | None = None  # fake kind: fail after N tokens
    reply: str | None = None  # fake kind: fixed reply


class ModelSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """One ``[[models]]`` entry: a model id clients may ask for."""

    id: Annotated[str, _doc("Model id clients send."), Meta(min_length=1)]
    provider: Annotated[str, _doc("Name of a [providers.<name>] entry (or `default`).")] = "default"
    upstream_model: Annotated[str, _doc("Model name sent upstream; default: id.")] = ""
    context_window: Annotated[int, Meta(ge=256)] = 8192
    max_output_tokens: Annotated[int, Meta(ge=1)] = 4096
    input_price_per_million: Annotated[float, _doc("USD per million prompt tokens.")] = 0.0
    output_price_per_million: Annotated[float, _doc("USD per million completion tokens.")] = 0.0
    fallbacks: Annotated[list[str], _doc("Model ids tried in order when this one fails.")] = field(
        default_factory=list
    )
    allowed_params: Annotated[
        list[str], _doc("Extra OpenAI params forwarded upstream (logprobs, tools, n, ...).")
    ] = field(default_factory=list)


class Settings(Struct, kw_only=True, forbid_unknown_fields=True):
    """Everything Parley reads from its environment, in one typed value."""

    env: Annotated[Literal["development", "production", "test"], _doc("Run mode.")] = "development"
    data_dir: Annotated[str, _doc("Where the embedded database and indexes live.")] = "./data"
    secret_key: Annotated[str, _doc("HMAC key for tokens (≥ 32 chars in production).")] = (
        DEFAULT_SECRET_KEY
    )
    host: Annotated[str, _doc("Bind address for `parley serve`.")] = "127.0.0.1"
    port: Annotated[int, _doc("Bind port for `parley serve`."), Meta(ge=0, le=65535)] = 8000
    workers: Annotated[int, _doc("uvicorn worker processes."), Meta(ge=1)] = 1
    log_level: Annotated[str, _doc("debug, info, warning or error.")] = "info"
    log_json: Annotated[bool | None, _doc("JSON logs; default: on in production.")] = None
    import_max_bytes: Annotated[
        int, _doc("Largest accepted import upload (413 beyond it)."), Meta(ge=1024)
    ] = 200 * 1024 * 1024
    import_max_entries: Annotated[int, _doc("Most entries an import zip may hold."), Meta(ge=1)] = (
        10_000
    )
    import_max_unpacked_bytes: Annotated[
        int, _doc("Largest total unpacked size of an import zip."), Meta(ge=1024)
    ] = 2 * 1024**3
    import_max_ratio: Annotated[
        float, _doc("Highest compression ratio of an import zip entry (zip bombs)."), Meta(gt=1)
    ] = 200.0
    export_ttl_s: Annotated[
        int, _doc("How long an export stays downloadable; then it is deleted."), Meta(ge=60)
    ] = 86_400
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    llm: LLMSettings = field(default_factory=LLMSettings)
    fake: FakeLLMSettings = field(default_factory=FakeLLMSettings)
    embeddings: EmbeddingsSettings = field(default_factory=EmbeddingsSettings)
    chat: ChatSettings = field(default_factory=ChatSettings)
    ws: WebSocketSettings = field(default_factory=WebSocketSettings)
    limits: LimitsSettings = field(default_factory=LimitsSettings)
    usage: UsageSettings = field(default_factory=UsageSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    jobs: JobsSettings = field(default_factory=JobsSettings)
    health: HealthSettings = field(default_factory=HealthSettings)
    plans: Annotated[
        dict[str, PlanSettings],
        _doc("parley.toml [plans.<name>]: monthly quotas; free, pro and unlimited by default."),
    ] = field(default_factory=default_plans)
    providers: Annotated[
        dict[str, ProviderSettings],
        _doc("parley.toml [providers.<name>]: upstreams; `default` comes from PARLEY_LLM_*."),
    ] = field(default_factory=dict)
    context_sources: Annotated[
        dict[str, ContextSourceSettings],
        _doc("parley.toml [context_sources.<name>]: grounding sources conversations may use."),
    ] = field(default_factory=dict)
    models: Annotated[
        list[ModelSettings],
        _doc("parley.toml [[models]]: the catalog; none: one model from PARLEY_LLM_*."),
    ] = field(default_factory=list)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{Path(self.data_dir).resolve() / 'parley.db'}"

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def docs_enabled(self) -> bool:
        if self.http.docs_enabled is not None:
            return self.http.docs_enabled
        return not self.is_production

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.is_production


def _group_types() -> dict[str, type[Struct]]:
    hints = {f.name: f.type for f in msgspec.structs.fields(Settings)}
    return {name: t for name, t in hints.items() if isinstance(t, type) and issubclass(t, Struct)}


def _env_name(path: list[str]) -> str:
    return "PARLEY_" + "_".join(p.upper() for p in path)


def _env_overlay(environ: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Collect PARLEY_* variables into a nested dict; remember which variable set each path."""
    data: dict[str, Any] = {}
    origin: dict[str, str] = {}
    groups = _group_types()
    top = {f.name: f.type for f in msgspec.structs.fields(Settings) if f.name not in groups}
    for group, typ in groups.items():
        for f in msgspec.structs.fields(typ):
            name = _env_name([group, f.name])
            if name in environ:
                data.setdefault(group, {})[f.name] = _coerce_env(environ[name], f.type)
                origin[f"{group}.{f.name}"] = name
    for fname, ftype in top.items():
        name = _env_name([fname])
        if name in environ:
            data[fname] = _coerce_env(environ[name], ftype)
            origin[fname] = name
    return data, origin


_SEQUENCES = (list, tuple, set, frozenset)


def _coerce_env(raw: str, typ: Any) -> Any:
    """An environment string as the field's shape wants it: a comma-separated list for a
    sequence, None for an empty or "none" optional, else the string (msgspec converts
    numbers and booleans when it builds the settings)."""
    core, optional = _unwrap(typ)
    if optional and raw.strip().lower() in {"", "none", "null"}:
        return None
    if get_origin(core) in _SEQUENCES or core in _SEQUENCES:
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _unwrap(typ: Any) -> tuple[Any, bool]:
    """The field's type without ``Annotated`` and ``None`` (and whether None was allowed)."""
    optional = False
    while True:
        origin = get_origin(typ)
        if origin is Annotated:
            typ = get_args(typ)[0]
        elif origin is Union or origin is UnionType:
            members = [a for a in get_args(typ) if a is not type(None)]
            optional = optional or len(members) < len(get_args(typ))
            if len(members) != 1:
                return typ, optional
            typ = members[0]
        else:
            return typ, optional


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(
    environ: Mapping[str, str] | None = None, toml_path: str | Path | None = None
) -> Settings:
    """Build Settings from ``parley.toml`` (if present) overlaid by ``PARLEY_*`` variables."""
    environ = os.environ if environ is None else environ
    path = Path(toml_path or environ.get("PARLEY_CONFIG", "parley.toml"))
    file_data: dict[str, Any] = {}
    if path.is_file():
        try:
            file_data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: invalid TOML: {exc}") from exc
    env_data, origin = _env_overlay(environ)
    merged = _merge(file_data, env_data)
    try:
        settings = msgspec.convert(merged, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc, origin, path)) from None
    _check_limit_strings(settings, origin)
    _check_context_sources(settings, path)
    _check_production(settings)
    return settings


def _check_context_sources(settings: Settings, path: Path) -> None:
    for name, source in settings.context_sources.items():
        where = f"{path} [context_sources.{name}]"
        if not name.replace("_", "").replace("-", "").isalnum() or len(name) > 64:
            raise SettingsError(f"{where}: a source name is letters, digits, '-' and '_'")
        if source.kind == "http" and not source.url.startswith(("http://", "https://")):
            raise SettingsError(f"{where}: an http source needs an http:// or https:// url")


def _check_limit_strings(settings: Settings, origin: dict[str, str]) -> None:
    for group in ("chat", "default", "login"):
        text = getattr(settings.limits, group)
        if not text.strip():
            continue
        try:
            parse_limit_string(text)
        except ValueError as exc:
            source = origin.get(f"limits.{group}", f"PARLEY_LIMITS_{group.upper()}")
            raise SettingsError(f"invalid setting {source}: {exc}") from None


def _explain(exc: msgspec.ValidationError, origin: dict[str, str], path: Path) -> str:
    message = str(exc)
    where = message.rsplit("at `$.", 1)
    if len(where) == 2:
        dotted = where[1].rstrip("`").split("[")[0]
        source = origin.get(dotted) or f"{path} [{dotted}] (env {_env_name(dotted.split('.'))})"
        return f"invalid setting {source}: {where[0].rstrip(' -')}"
    return f"invalid settings: {message}"


def _check_production(settings: Settings) -> None:
    if settings.http.cors_allow_credentials and "*" in settings.http.cors_origins:
        raise SettingsError(
            "PARLEY_HTTP_CORS_ORIGINS: a wildcard origin cannot be combined with credentials"
        )
    if not settings.is_production:
        return
    if settings.secret_key == DEFAULT_SECRET_KEY or len(settings.secret_key) < 32:
        raise SettingsError(
            "PARLEY_SECRET_KEY: production needs a random secret of at least 32 characters "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )


_NOT_SETTINGS = ("PARLEY_CONFIG", "PARLEY_TEST_")


def unknown_env_vars(environ: Mapping[str, str] | None = None) -> list[str]:
    """``PARLEY_*`` variables that set nothing (typos such as PARLEY_DATABSE_URL)."""
    environ = os.environ if environ is None else environ
    known = {name for name, _, _ in describe_settings()}
    return sorted(
        name
        for name in environ
        if name.startswith("PARLEY_") and name not in known and not name.startswith(_NOT_SETTINGS)
    )


def describe_settings() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for docs and `parley config`."""
    rows: list[tuple[str, str, str]] = []
    groups = _group_types()
    for f in msgspec.structs.fields(Settings):
        if f.name in groups:
            for g in msgspec.structs.fields(groups[f.name]):
                rows.append(_row([f.name, g.name], g))
        else:
            rows.append(_row([f.name], f))
    return rows


def _row(path: list[str], f: msgspec.structs.FieldInfo) -> tuple[str, str, str]:
    desc = ""
    for meta in getattr(f.type, "__metadata__", ()):
        if isinstance(meta, Meta) and meta.description:
            desc = meta.description
    default = f.default if f.default is not msgspec.NODEFAULT else "[]"
    return _env_name(path), repr(default), desc
