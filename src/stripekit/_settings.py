"""Settings: one pydantic-settings class, read from the environment or arguments."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ._errors import ConfigurationError, shown
from ._urls import origin_of

__all__ = ["Settings"]

CHECKOUT_SESSION_ID = "{CHECKOUT_SESSION_ID}"
STRIPE_JS_URL = "https://js.stripe.com/v3/"

# Environment variable of each field: the names Stripe's own docs and tools use
# for keys, STRIPEKIT_ for the kit's own knobs.
_ENV_NAMES: dict[str, str] = {
    "secret_key": "STRIPE_SECRET_KEY",
    "publishable_key": "STRIPE_PUBLISHABLE_KEY",
    "webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "api_base": "STRIPE_API_BASE",
    "api_version": "STRIPEKIT_API_VERSION",
    "products": "STRIPEKIT_PRODUCTS",
    "base_url": "STRIPEKIT_BASE_URL",
    "success_url": "STRIPEKIT_SUCCESS_URL",
    "cancel_url": "STRIPEKIT_CANCEL_URL",
    "portal_return_url": "STRIPEKIT_PORTAL_RETURN_URL",
    "return_url": "STRIPEKIT_RETURN_URL",
    "payment_return_url": "STRIPEKIT_PAYMENT_RETURN_URL",
    "stripe_js_url": "STRIPEKIT_STRIPE_JS_URL",
    "database_url": "STRIPEKIT_DATABASE_URL",
    "webhook_tolerance": "STRIPEKIT_WEBHOOK_TOLERANCE",
    "webhook_max_bytes": "STRIPEKIT_WEBHOOK_MAX_BYTES",
    "reject_livemode_mismatch": "STRIPEKIT_REJECT_LIVEMODE_MISMATCH",
    "price_cache_ttl": "STRIPEKIT_PRICE_CACHE_TTL",
    "claim_lease": "STRIPEKIT_CLAIM_LEASE",
    "trusted_origins": "STRIPEKIT_TRUSTED_ORIGINS",
    "handler_timeout": "STRIPEKIT_HANDLER_TIMEOUT",
    "handler_threads": "STRIPEKIT_HANDLER_THREADS",
    "database_connect_timeout": "STRIPEKIT_DATABASE_CONNECT_TIMEOUT",
    "database_statement_timeout": "STRIPEKIT_DATABASE_STATEMENT_TIMEOUT",
    "database_lock_timeout": "STRIPEKIT_DATABASE_LOCK_TIMEOUT",
    "billing": "STRIPEKIT_BILLING",
    "billing_refetch": "STRIPEKIT_BILLING_REFETCH",
    "billing_grace_days": "STRIPEKIT_BILLING_GRACE_DAYS",
    "credits_clawback": "STRIPEKIT_CREDITS_CLAWBACK",
    "plan_change_proration": "STRIPEKIT_PLAN_CHANGE_PRORATION",
    "metrics": "STRIPEKIT_METRICS",
    "metrics_token": "STRIPEKIT_METRICS_TOKEN",
    "processing": "STRIPEKIT_PROCESSING",
    "sweep_grace": "STRIPEKIT_SWEEP_GRACE",
    "sweep_max_attempts": "STRIPEKIT_SWEEP_MAX_ATTEMPTS",
}

# A Stripe API version: a date, and since 2024-09-30 a release name (2026-10-28.endive).
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z]+)?")

_SECRET_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
_PUBLISHABLE_PREFIXES = ("pk_test_", "pk_live_")


def _env(field: str) -> Any:
    # Both the field name (arguments) and the env variable are accepted.
    return AliasChoices(field, _ENV_NAMES[field])


def _key_mode(key: str) -> Literal["test", "live"]:
    return "live" if "_live_" in key[:8] else "test"


def _describe_key(value: str) -> str:
    """Say what kind of Stripe value this is without showing any of it."""
    if value.startswith(("pk_test_", "pk_live_")):
        return "a publishable key (pk_...)"
    if value.startswith(_SECRET_PREFIXES):
        return "a secret key (sk_... or rk_...)"
    if value.startswith("whsec_"):
        return "a webhook signing secret (whsec_...)"
    return "a value that is not a Stripe key"


class Settings(BaseSettings):
    """Everything stripekit needs to know, from the environment or from arguments.

    Each field is read from its environment variable (``STRIPE_SECRET_KEY``,
    ``STRIPEKIT_BASE_URL``...) unless given as an argument. Secrets are
    ``SecretStr``: they never show in a repr, a log line or an error message.

    Example:
        >>> s = Settings(secret_key="sk_test_123", base_url="https://shop.example")
        >>> s.mode, s.success_url_template
        ('test', 'https://shop.example/stripe/success?session_id={CHECKOUT_SESSION_ID}')
    """

    model_config = SettingsConfigDict(
        # Unknown *environment* variables belong to the app; unknown *arguments*
        # are caught in __init__ with a did-you-mean.
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
        env_ignore_empty=True,
        hide_input_in_errors=True,
    )

    secret_key: SecretStr | None = Field(default=None, validation_alias=_env("secret_key"))
    """Stripe secret (or restricted) key: ``sk_test_...``/``sk_live_...``."""

    publishable_key: str | None = Field(default=None, validation_alias=_env("publishable_key"))
    """Stripe publishable key ``pk_test_...``/``pk_live_...``: the only key a browser may see."""

    webhook_secret: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(), validation_alias=_env("webhook_secret")
    )
    """Webhook signing secrets (``whsec_...``); several, comma-separated, during a rotation."""

    api_base: str | None = Field(default=None, validation_alias=_env("api_base"))
    """Where Stripe's API lives; set it to the local emulator (``http://127.0.0.1:12111``)."""

    api_version: str | None = Field(default=None, validation_alias=_env("api_version"))
    """The Stripe API version the kit's requests use and its handlers read (``2026-10-28.endive``);
    unset: the version stripe-python pins (``stripe_api_version``). Webhook endpoints should
    render events with the same one (``stripekit check`` compares)."""

    products: Path | None = Field(default=None, validation_alias=_env("products"))
    """Path of the products file (TOML)."""

    base_url: str = Field(default="http://localhost:8000", validation_alias=_env("base_url"))
    """Public URL of the app; success, cancel and portal return URLs derive from it."""

    success_url: str | None = Field(default=None, validation_alias=_env("success_url"))
    """Where Checkout sends the buyer after paying; must hold ``{CHECKOUT_SESSION_ID}``."""

    cancel_url: str | None = Field(default=None, validation_alias=_env("cancel_url"))
    """Where Checkout sends a buyer who goes back."""

    portal_return_url: str | None = Field(default=None, validation_alias=_env("portal_return_url"))
    """Where the billing portal's "return" link leads."""

    return_url: str | None = Field(default=None, validation_alias=_env("return_url"))
    """Where embedded Checkout sends the buyer once paid; must hold ``{CHECKOUT_SESSION_ID}``
    (default: the embedded checkout's return page, ``/stripe/checkout/return``)."""

    payment_return_url: str | None = Field(
        default=None, validation_alias=_env("payment_return_url")
    )
    """Where the Payment Element sends the buyer once paid (or after 3-D Secure); Stripe
    adds ``payment_intent`` to it (default: ``/stripe/pay/return``)."""

    stripe_js_url: str | None = Field(default=None, validation_alias=_env("stripe_js_url"))
    """Where the payment pages load Stripe.js from: Stripe's (``https://js.stripe.com/v3/``),
    or, when ``STRIPE_API_BASE`` points at the emulator, the emulator's stand-in."""

    database_url: SecretStr = Field(
        default=SecretStr("sqlite:///stripekit.sqlite3"), validation_alias=_env("database_url")
    )
    """SQLAlchemy URL of the event store (it may hold a password, so it is secret)."""

    webhook_tolerance: int = Field(default=300, gt=0, validation_alias=_env("webhook_tolerance"))
    """How old (seconds) a webhook signature may be; there is no "never expires"."""

    webhook_max_bytes: int = Field(
        default=1024 * 1024, gt=0, validation_alias=_env("webhook_max_bytes")
    )
    """Largest webhook body accepted; larger ones are answered 413."""

    reject_livemode_mismatch: bool = Field(
        default=False, validation_alias=_env("reject_livemode_mismatch")
    )
    """Answer 400 (not "ignored") to an event whose livemode differs from the keys'."""

    price_cache_ttl: float = Field(default=300.0, ge=0, validation_alias=_env("price_cache_ttl"))
    """Seconds a price id resolved by lookup_key is reused before asking Stripe again."""

    claim_lease: float = Field(default=60.0, gt=0, le=86_400, validation_alias=_env("claim_lease"))
    """Seconds a worker holds an event before another delivery may take it over (a
    worker of this machine that died is taken over at once); more than the handler
    time budget."""

    handler_timeout: float = Field(
        default=10.0, gt=0, le=3_600, validation_alias=_env("handler_timeout")
    )
    """Seconds a delivery's handlers may run, all together, in async apps; past it the
    delivery is answered 500 and the event recorded failed ("timed out")."""

    handler_threads: int = Field(default=8, ge=1, le=256, validation_alias=_env("handler_threads"))
    """Worker threads for plain ``def`` handlers in async apps (apart from store I/O)."""

    database_connect_timeout: float = Field(
        default=5.0, gt=0, le=600, validation_alias=_env("database_connect_timeout")
    )
    """Seconds to open a PostgreSQL connection (or wait for one from the pool)."""

    database_statement_timeout: float = Field(
        default=5.0, gt=0, le=600, validation_alias=_env("database_statement_timeout")
    )
    """Seconds one event store statement may run on PostgreSQL."""

    database_lock_timeout: float = Field(
        default=3.0, gt=0, le=600, validation_alias=_env("database_lock_timeout")
    )
    """Seconds an event store statement may wait for a lock on PostgreSQL."""

    billing: bool | None = Field(default=None, validation_alias=_env("billing"))
    """Keep the billing state (``kit.billing``): who has paid for what, mirrored from the
    events by the kit's own handlers, which run before the app's. Unset: on whenever
    ``STRIPE_SECRET_KEY`` is set (the mirror asks Stripe to settle ties) and the event
    store has a billing store beside it."""

    billing_refetch: Literal["ties", "always"] = Field(
        default="ties", validation_alias=_env("billing_refetch")
    )
    """``ties``: fetch an object from Stripe only to settle events of the same second;
    ``always``: fetch every object an event names (one API call per event)."""

    billing_grace_days: float = Field(
        default=3.0, ge=0, le=365, validation_alias=_env("billing_grace_days")
    )
    """Days a ``past_due`` subscription keeps access after its period began."""

    credits_clawback: bool = Field(default=True, validation_alias=_env("credits_clawback"))
    """Whether a refund takes back the credits its purchase granted (never below zero)."""

    plan_change_proration: Literal["create_prorations", "always_invoice", "none"] = Field(
        default="always_invoice", validation_alias=_env("plan_change_proration")
    )
    """How a plan change made on the account page is billed: ``always_invoice`` (the
    difference is charged or credited at once, as the page's preview says),
    ``create_prorations`` (it joins the next invoice) or ``none``. The app's choice:
    the browser never picks it."""

    metrics: bool | None = Field(default=None, validation_alias=_env("metrics"))
    """Count deliveries in Prometheus metrics (``kit.metrics``). Unset: on whenever
    prometheus-client is installed (``pip install "stripekit[metrics]"``)."""

    metrics_token: SecretStr | None = Field(default=None, validation_alias=_env("metrics_token"))
    """The bearer token ``GET /stripe/metrics`` asks for (``Authorization: Bearer ...``);
    unset, the route answers 404: the metrics tell the shop's sales rate, not for
    strangers."""

    processing: Literal["inline", "deferred"] = Field(
        default="inline", validation_alias=_env("processing")
    )
    """``inline``: the webhook route runs the handlers before it answers. ``deferred``:
    it records the event ``queued``, hands its id to the app's task queue and answers
    200 at once; a worker runs the handlers (docs/scale.md)."""

    sweep_grace: float = Field(default=300.0, ge=0, le=86_400, validation_alias=_env("sweep_grace"))
    """Seconds an event may stay ``queued`` (or ``processing``) before the sweeper runs
    it itself; the queue's own workers have that long to get to it."""

    sweep_max_attempts: int = Field(
        default=5, ge=1, le=1_000, validation_alias=_env("sweep_max_attempts")
    )
    """The sweeper's retry budget: it leaves alone an event whose handlers already
    started this many times (``stripekit events replay`` still runs it)."""

    trusted_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias=_env("trusted_origins")
    )
    """Other origins (``https://www.shop.example``) whose pages may post the shop's forms,
    comma-separated; the app's own (``STRIPEKIT_BASE_URL``) always may."""

    def __init__(self, **values: Any) -> None:
        known = set(_ENV_NAMES) | set(_ENV_NAMES.values())
        for name in values:
            if name not in known and not name.startswith("_"):
                hint = difflib.get_close_matches(name, sorted(known), n=1)
                tip = f"; did you mean {hint[0]!r}?" if hint else ""
                raise ConfigurationError(f"unknown setting {name!r}{tip}")
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(_explain(exc)) from None

    @field_validator("webhook_secret", mode="before")
    @classmethod
    def _split_secrets(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_version")
    @classmethod
    def _check_api_version(cls, value: str | None) -> str | None:
        if value is not None and not _API_VERSION.fullmatch(value.strip()):
            raise ValueError(
                f"{shown(value)} is not a Stripe API version: give one like 2026-10-28.endive "
                "(Dashboard → Developers → API version), or leave it unset for stripe-python's"
            )
        return value.strip() if value is not None else None

    @field_validator("trusted_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list | tuple):
            return value
        origins = []
        for item in value:
            origin = origin_of(str(item))
            if origin is None or origin != str(item).strip().rstrip("/").lower():
                raise ValueError(
                    f"{shown(item)} is not an origin: give scheme://host[:port], "
                    "e.g. https://www.shop.example, with no path"
                )
            origins.append(origin)
        return tuple(origins)

    @field_validator(
        "base_url",
        "success_url",
        "cancel_url",
        "portal_return_url",
        "return_url",
        "payment_return_url",
        "stripe_js_url",
        "api_base",
    )
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http:// or https:// URL")
        return value.rstrip("/") if "?" not in value else value

    @model_validator(mode="after")
    def _check_keys(self) -> Settings:
        problems: list[str] = []
        secret = self.secret_key.get_secret_value() if self.secret_key else None
        if secret is not None and not secret.startswith(_SECRET_PREFIXES):
            problems.append(
                f"STRIPE_SECRET_KEY holds {_describe_key(secret)}: put your secret key there "
                "(sk_test_... or sk_live_..., Dashboard → Developers → API keys)"
            )
        pk = self.publishable_key
        if pk is not None and not pk.startswith(_PUBLISHABLE_PREFIXES):
            problems.append(
                f"STRIPE_PUBLISHABLE_KEY holds {_describe_key(pk)}: put your publishable key "
                "there (pk_test_... or pk_live_...); it is the only key a browser may see"
            )
        if (
            not problems
            and secret is not None
            and pk is not None
            and _key_mode(secret) != _key_mode(pk)
        ):
            problems.append(
                f"STRIPE_PUBLISHABLE_KEY is a {_key_mode(pk)} key but STRIPE_SECRET_KEY is a "
                f"{_key_mode(secret)} key: use both keys from the same mode"
            )
        for position, item in enumerate(self.webhook_secret):
            if not item.get_secret_value().startswith("whsec_"):
                which = "" if len(self.webhook_secret) == 1 else f" (entry {position + 1})"
                problems.append(
                    f"STRIPE_WEBHOOK_SECRET{which} holds {_describe_key(item.get_secret_value())}: "
                    "put the endpoint's signing secret there (whsec_...)"
                )
        if self.claim_lease <= self.handler_timeout:
            problems.append(
                f"STRIPEKIT_CLAIM_LEASE ({self.claim_lease:g} s) must be longer than "
                f"STRIPEKIT_HANDLER_TIMEOUT ({self.handler_timeout:g} s): a delivery whose "
                "handlers still run would lose its claim to the next one"
            )
        if self.success_url is not None and CHECKOUT_SESSION_ID not in self.success_url:
            problems.append(
                f"STRIPEKIT_SUCCESS_URL must contain {CHECKOUT_SESSION_ID} so the success "
                "page can look the session up"
            )
        if self.return_url is not None and CHECKOUT_SESSION_ID not in self.return_url:
            problems.append(
                f"STRIPEKIT_RETURN_URL must contain {CHECKOUT_SESSION_ID} so the return "
                "page can look the session up"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def mode(self) -> Literal["test", "live"] | None:
        """``"test"`` or ``"live"`` from the secret key's prefix; ``None`` with no key."""
        if self.secret_key is not None:
            return _key_mode(self.secret_key.get_secret_value())
        if self.publishable_key is not None:
            return _key_mode(self.publishable_key)
        return None

    @property
    def livemode(self) -> bool | None:
        """What an event's ``livemode`` must be for these keys; ``None`` with no key."""
        mode = self.mode
        return None if mode is None else mode == "live"

    @property
    def own_origins(self) -> frozenset[str]:
        """The origins whose pages may post the shop's forms (the app's and the trusted)."""
        base = origin_of(self.base_url)
        return frozenset({*self.trusted_origins, *([base] if base else [])})

    @property
    def success_url_template(self) -> str:
        """The success URL handed to Checkout, with ``{CHECKOUT_SESSION_ID}`` in it."""
        return (
            self.success_url or f"{self.base_url}/stripe/success?session_id={CHECKOUT_SESSION_ID}"
        )

    @property
    def cancel_url_resolved(self) -> str:
        """The cancel URL handed to Checkout."""
        return self.cancel_url or f"{self.base_url}/stripe/cancel"

    @property
    def return_url_template(self) -> str:
        """The return URL handed to embedded Checkout, with ``{CHECKOUT_SESSION_ID}`` in it."""
        return (
            self.return_url
            or f"{self.base_url}/stripe/checkout/return?session_id={CHECKOUT_SESSION_ID}"
        )

    @property
    def payment_return_url_resolved(self) -> str:
        """Where ``confirmPayment`` returns the buyer (Stripe adds ``?payment_intent=...``)."""
        return self.payment_return_url or f"{self.base_url}/stripe/pay/return"

    @property
    def emulated(self) -> bool:
        """Whether ``STRIPE_API_BASE`` points somewhere other than Stripe: the emulator."""
        if self.api_base is None:
            return False
        host = (urlsplit(self.api_base).hostname or "").lower()
        return not (host == "stripe.com" or host.endswith(".stripe.com"))

    @property
    def stripe_js_url_resolved(self) -> str:
        """The Stripe.js the payment pages load: the setting, else the emulator's stand-in
        when the API base is the emulator, else Stripe's own."""
        if self.stripe_js_url is not None:
            return self.stripe_js_url
        if self.emulated and self.api_base is not None:
            return f"{self.api_base.rstrip('/')}/v3/"
        return STRIPE_JS_URL

    @property
    def portal_return_url_resolved(self) -> str:
        """Where the billing portal returns to."""
        return self.portal_return_url or f"{self.base_url}/"

    @property
    def stripe_api_version(self) -> str:
        """``api_version``, or the version stripe-python pins when it is unset."""
        if self.api_version is not None:
            return self.api_version
        import stripe  # here: importing the settings must stay cheap

        return str(stripe.api_version)

    def require_secret_key(self) -> str:
        """The secret key, or a ConfigurationError saying how to set it."""
        if self.secret_key is None:
            raise ConfigurationError(
                "STRIPE_SECRET_KEY is not set: export your secret key (sk_test_...), "
                "or run against the emulator with STRIPE_API_BASE=http://127.0.0.1:12111 "
                "and any sk_test_ key"
            )
        return self.secret_key.get_secret_value()

    def require_webhook_secrets(self) -> tuple[str, ...]:
        """The webhook secrets, or a ConfigurationError saying how to set them."""
        if not self.webhook_secret:
            raise ConfigurationError(
                "STRIPE_WEBHOOK_SECRET is not set: copy the endpoint's signing secret "
                "(whsec_...) from the Dashboard or `stripe listen`"
            )
        return tuple(s.get_secret_value() for s in self.webhook_secret)


def _explain(exc: ValidationError) -> str:
    """A ValidationError as one line per field, named by env variable, with no input values."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        field = loc[0] if loc else ""
        name = _ENV_NAMES.get(field, field)
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name}: {message}" if name else message)
    return "invalid stripekit settings: " + "; ".join(lines)
