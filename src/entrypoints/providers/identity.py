"""Identity wiring: security adapters, revocation store, rate limiter, identity use cases.

In-process twins serve the embedded mode; with PARLEY_REDIS_URL the Redis twins make
revocations and limits global across instances.
"""

from __future__ import annotations

from pathlib import Path

from dishka import Provider, Scope, provide, provide_all

from adapters.memory.rate_limiter import MemoryRateLimiter
from adapters.memory.token_store import MemoryTokenStore
from adapters.security.api_key_secrets import Sha256ApiKeySecrets
from adapters.security.argon2_hasher import Argon2PasswordHasher
from adapters.security.jwt_issuer import JwtTokenIssuer
from application.identity.auth_cache import AuthCache
from application.identity.authenticate import Authenticate
from application.identity.change_password import ChangePassword
from application.identity.config import IdentityConfig
from application.identity.create_api_key import CreateApiKey
from application.identity.create_user import CreateUser
from application.identity.delete_api_key import DeleteApiKey
from application.identity.find_user_by_email import FindUserByEmail
from application.identity.get_me import GetMe
from application.identity.list_api_keys import ListApiKeys
from application.identity.list_users import ListUsers
from application.identity.login import Login
from application.identity.login_throttle import LoginThrottle
from application.identity.logout import Logout
from application.identity.refresh import Refresh
from application.identity.register import Register
from application.identity.session_tokens import SessionTokens
from application.identity.set_active import SetActive
from application.identity.set_plan import SetPlan
from application.identity.set_role import SetRole
from application.identity.update_me import UpdateMe
from application.ports.api_key_secrets import ApiKeySecrets
from application.ports.password_hasher import PasswordHasher
from application.ports.rate_limiter import RateLimiter
from application.ports.token_issuer import TokenIssuer
from application.ports.token_store import TokenStore
from entrypoints.settings import Settings, SettingsError
from entrypoints.usage_settings import default_plans


def identity_config(settings: Settings) -> IdentityConfig:
    auth = settings.auth
    # One source of plan names: the plan table (defaults plus parley.toml [plans.<name>]).
    plans = tuple({**default_plans(), **settings.plans})
    if auth.default_plan not in plans:
        raise SettingsError(
            f"PARLEY_AUTH_DEFAULT_PLAN: {auth.default_plan!r} is not one of the configured "
            f"plans ({', '.join(plans)})"
        )
    return IdentityConfig(
        access_ttl_s=auth.access_ttl_s,
        refresh_ttl_s=auth.refresh_ttl_s,
        session_max_age_s=auth.session_max_age_s,
        login_per_account_per_minute=auth.login_per_account_per_minute,
        login_per_ip_per_minute=auth.login_per_ip_per_minute,
        plans=plans,
        default_plan=auth.default_plan,
    )


class SecurityProvider(Provider):
    """APP scope: stateless or process-wide collaborators."""

    scope = Scope.APP

    @provide
    def config(self, settings: Settings) -> IdentityConfig:
        return identity_config(settings)

    @provide
    def hasher(self, settings: Settings) -> PasswordHasher:
        return Argon2PasswordHasher(
            memory_kib=settings.auth.argon2_memory_kib, time_cost=settings.auth.argon2_time_cost
        )

    @provide
    def issuer(self, settings: Settings) -> TokenIssuer:
        return JwtTokenIssuer(
            secret_key=settings.secret_key,
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
        )

    api_key_secrets = provide(Sha256ApiKeySecrets, provides=ApiKeySecrets)
    session_tokens = provide(SessionTokens)
    throttle = provide(LoginThrottle)
    authenticate = provide(Authenticate)

    @provide
    def auth_cache(self) -> AuthCache:
        return AuthCache()


class MemoryStoresProvider(Provider):
    scope = Scope.APP

    @provide
    def token_store(self, settings: Settings) -> TokenStore:
        # The epoch file lets a CLI process on the same embedded database invalidate
        # this process's cached identities (see MemoryTokenStore).
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        return MemoryTokenStore(epoch_file=data_dir / "identity-epoch")

    rate_limiter = provide(MemoryRateLimiter, provides=RateLimiter)


class IdentityUseCasesProvider(Provider):
    scope = Scope.REQUEST
    use_cases = provide_all(
        Register,
        Login,
        Refresh,
        Logout,
        GetMe,
        UpdateMe,
        ChangePassword,
        CreateApiKey,
        ListApiKeys,
        DeleteApiKey,
        CreateUser,
        ListUsers,
        SetRole,
        SetPlan,
        SetActive,
    )
    # Operator tools name a user by email; nothing of a request is needed for it.
    find_user_by_email = provide(FindUserByEmail, scope=Scope.APP)


def providers(settings: Settings) -> list[Provider]:
    stores: Provider = MemoryStoresProvider()
    if settings.redis.url:
        from entrypoints.providers.identity_redis import RedisStoresProvider

        stores = RedisStoresProvider()
    return [SecurityProvider(), stores, IdentityUseCasesProvider()]
