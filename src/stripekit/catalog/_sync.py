"""Products sync: make a Stripe account's products and prices match the catalog.

``plan_sync`` compares (no writes) and returns a SyncPlan: what to create,
update, replace (Stripe prices are immutable: a changed amount, currency,
interval or tax behaviour makes a new price and moves the lookup key to it with
``transfer_lookup_key``, so running apps pick it up with no deploy) and what the
file dropped (archived only when asked). ``apply_sync`` carries a plan out, one
write at a time, each with an idempotency key derived from its content, so a
retried sync cannot create twins; a failure halfway raises SyncError saying
what was done and what was not, and a rerun (a fresh plan) finishes the job.
Sync never deletes, and leaves products it does not manage alone.

Example:
    >>> plan = plan_sync(catalog, read_account(client, catalog))  # doctest: +SKIP
    >>> for action in plan.actions: print(action)                  # doctest: +SKIP
    create product   pro        Pro
    create price     pro        pro_monthly  $15.00 / month
    >>> apply_sync(client, plan)                                    # doctest: +SKIP
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from stripekit._errors import ConfigurationError, StripeAPIError, SyncError
from stripekit._stripe_api import call_stripe

from ._sync_state import PRODUCT_TAG, AccountState

if TYPE_CHECKING:
    import stripe
    from stripe import RequestOptions
    from stripe.params import (
        PriceCreateParams,
        PriceUpdateParams,
        ProductCreateParams,
        ProductUpdateParams,
    )

    from ._catalog import Catalog
    from ._models import Price, Product

__all__ = ["SyncAction", "SyncKind", "SyncPlan", "apply_sync", "plan_sync"]


class SyncKind(enum.StrEnum):
    """What one step of a sync does."""

    CREATE_PRODUCT = "create product"
    UPDATE_PRODUCT = "update product"
    CREATE_PRICE = "create price"
    REPLACE_PRICE = "new price"
    """A new price with the lookup key moved to it; the old one archived."""
    UPDATE_PRICE = "update price"
    ARCHIVE_PRICE = "archive price"
    ARCHIVE_PRODUCT = "archive product"


@dataclass(frozen=True)
class SyncAction:
    """One write, described for people (``target``, ``reason``) and for Stripe (``params``)."""

    kind: SyncKind
    product: str
    """The catalog key of the product (for archives, the key the account's tag holds)."""
    target: str
    """What it acts on: a product's name or a price's lookup key and amount."""
    reason: str = ""
    object_id: str | None = None
    """The Stripe object updated, archived or (REPLACE_PRICE) replaced."""
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        why = f"  ({self.reason})" if self.reason else ""
        return f"{self.kind.value:<16} {self.product:<12} {self.target}{why}"


@dataclass(frozen=True)
class SyncPlan:
    """What a sync would do, and what it leaves alone."""

    actions: tuple[SyncAction, ...]
    dropped: tuple[SyncAction, ...] = ()
    """Archives the file implies but that were not asked for (``archive=False``)."""
    unmanaged: tuple[tuple[str, str], ...] = ()
    """(id, name) of active products sync does not manage and leaves untouched."""
    product_ids: dict[str, str] = field(default_factory=dict, compare=False)
    """Stripe product id of each catalog key that already has one."""
    stripe_account: str | None = None
    """The connected account (Connect) it was planned for and is applied to; None: the
    platform. It comes from the ``AccountState`` read, so a plan is only ever applied to
    the account it was compared with."""

    @property
    def in_sync(self) -> bool:
        """Whether applying this plan would change nothing."""
        return not self.actions


def plan_sync(catalog: Catalog, state: AccountState, *, archive: bool = False) -> SyncPlan:
    """Compare the catalog with the account; no writes.

    Raises:
        ConfigurationError: a product names an ``id`` the account does not have.
    """
    actions: list[SyncAction] = []
    dropped: list[SyncAction] = []
    product_ids: dict[str, str] = {}
    claimed: set[str] = set()
    catalog_lookup_keys = {price.lookup_key for _, price in catalog.prices()}
    catalog_price_ids = {price.id for _, price in catalog.prices() if price.id is not None}

    for product in catalog:
        existing = state.product_for(product.key, product.id)
        if existing is None and product.id is not None:
            raise ConfigurationError(
                f"product {product.key!r} names id {product.id}, which this Stripe account "
                "does not have: remove the id to create the product, or use the right keys"
            )
        if existing is None:
            actions.append(
                SyncAction(SyncKind.CREATE_PRODUCT, product.key, product.name, "new",
                           params=_product_params(product, tag=True))
            )  # fmt: skip
        else:
            product_ids[product.key] = existing["id"]
            claimed.add(existing["id"])
            update = _product_update(product, existing)
            if update:
                actions.append(
                    SyncAction(SyncKind.UPDATE_PRODUCT, product.key, product.name,
                               ", ".join(sorted(update)), existing["id"], update)
                )  # fmt: skip
        for price in product.prices:
            actions.extend(_price_actions(product, price, existing, state))
        if existing is not None:
            for old in state.managed_prices.get(existing["id"], []):
                if old.get("lookup_key") in catalog_lookup_keys or old["id"] in catalog_price_ids:
                    continue
                if old.get("lookup_key") is None and (old.get("metadata") or {}).get(PRODUCT_TAG):
                    # A price sync made always has a lookup key; one without was replaced
                    # by a run that stopped before archiving it.
                    actions.append(_archive_price(product.key, old, "replaced; its key moved"))
                else:
                    dropped.append(_archive_price(product.key, old, "dropped from the file"))

    for other in state.managed_products():
        if other["id"] in claimed or not other.get("active"):
            continue
        key = other["metadata"][PRODUCT_TAG]
        dropped.append(
            SyncAction(SyncKind.ARCHIVE_PRODUCT, key, other.get("name", ""),
                       "dropped from the file", other["id"], {"active": False})
        )  # fmt: skip
        for old in state.managed_prices.get(other["id"], []):
            dropped.append(_archive_price(key, old, "its product was dropped"))

    unmanaged = tuple(
        (p["id"], p.get("name", ""))
        for p in state.products.values()
        if p["id"] not in claimed and not (p.get("metadata") or {}).get(PRODUCT_TAG)
        and p.get("active")
    )  # fmt: skip
    account = state.stripe_account
    if archive:
        return SyncPlan(tuple(actions + dropped), (), unmanaged, product_ids, account)
    return SyncPlan(tuple(actions), tuple(dropped), unmanaged, product_ids, account)


def apply_sync(
    client: stripe.StripeClient,
    plan: SyncPlan,
    *,
    on_action: Callable[[SyncAction], None] | None = None,
) -> list[SyncAction]:
    """Carry a plan out in order, in the account it was planned for (``plan.stripe_account``:
    a connected account's, with ``Stripe-Account`` on each call); returns the actions done.

    Raises:
        SyncError: a write failed; ``done`` and ``remaining`` say how far it got.
            Run sync again (a fresh plan) to finish: nothing is written twice.
    """
    product_ids = dict(plan.product_ids)
    done: list[SyncAction] = []
    for i, action in enumerate(plan.actions):
        try:
            _apply_one(client, action, product_ids, plan.stripe_account)
        except StripeAPIError as exc:
            raise SyncError(
                f"{action.kind.value} {action.target!r} failed: {exc}",
                done=tuple(done),
                failed=action,
                remaining=plan.actions[i + 1 :],
            ) from exc
        done.append(action)
        if on_action is not None:
            on_action(action)
    return done


# -- comparing --------------------------------------------------------------------------------


def _product_params(product: Product, *, tag: bool) -> dict[str, Any]:
    metadata = dict(product.metadata)
    if tag:
        metadata[PRODUCT_TAG] = product.key
    params: dict[str, Any] = {"name": product.name, "metadata": metadata}
    if product.description is not None:
        params["description"] = product.description
    if product.image is not None:
        params["images"] = [product.image]
    if product.features:
        params["marketing_features"] = [{"name": name} for name in product.features]
    return params


def _product_update(product: Product, existing: dict[str, Any]) -> dict[str, Any]:
    """The fields to update so the Stripe product says what the catalog says."""
    update: dict[str, Any] = {}
    if existing.get("name") != product.name:
        update["name"] = product.name
    if product.description is not None and existing.get("description") != product.description:
        update["description"] = product.description
    images = [product.image] if product.image else []
    if product.image is not None and list(existing.get("images") or []) != images:
        update["images"] = images
    theirs = [f.get("name") for f in existing.get("marketing_features") or []]
    if theirs != list(product.features):
        update["marketing_features"] = [{"name": name} for name in product.features]
    metadata = _metadata_update(product.metadata, existing.get("metadata") or {})
    if metadata:
        update["metadata"] = metadata
    if not existing.get("active", True):
        update["active"] = True
    return update


def _metadata_update(ours: dict[str, str], theirs: dict[str, Any]) -> dict[str, str]:
    """Metadata to send so Stripe's equals ours (Stripe merges; "" removes a key).

    The sync tag is Stripe-side bookkeeping and never compared.
    """
    theirs = {k: v for k, v in theirs.items() if k != PRODUCT_TAG}
    if theirs == ours:
        return {}
    update = {k: v for k, v in ours.items() if theirs.get(k) != v}
    update.update({k: "" for k in theirs if k not in ours})
    return update


def _price_params(product: Product, price: Price) -> dict[str, Any]:
    params: dict[str, Any] = {
        "currency": price.currency,
        "unit_amount": price.amount,
        "lookup_key": price.lookup_key,
        "metadata": {**price.metadata, PRODUCT_TAG: product.key},
    }
    if price.interval is not None:
        params["recurring"] = {"interval": price.interval, "interval_count": price.interval_count}
    if price.tax_behavior is not None:
        params["tax_behavior"] = price.tax_behavior
    if price.nickname is not None:
        params["nickname"] = price.nickname
    return params


def _price_actions(
    product: Product, price: Price, product_obj: dict[str, Any] | None, state: AccountState
) -> list[SyncAction]:
    label = f"{price.lookup_key}  {price.display_amount}" + (
        f" / {price.interval}" if price.interval else ""
    )
    params = _price_params(product, price)
    existing = state.prices_by_lookup_key.get(price.lookup_key)
    if existing is None and price.id is not None and product_obj is not None:
        # A pulled price that had no lookup key: the file names it by id.
        siblings = state.managed_prices.get(product_obj["id"], [])
        existing = next((p for p in siblings if p["id"] == price.id), None)
    if existing is None:
        return [SyncAction(SyncKind.CREATE_PRICE, product.key, label, "new", params=params)]
    changed = price.differences(existing)
    if price.tax_behavior is not None and existing.get("tax_behavior") != price.tax_behavior:
        changed.append(
            f"tax_behavior: catalog {price.tax_behavior!r}, Stripe {existing.get('tax_behavior')!r}"
        )
    if product_obj is None or existing.get("product") != product_obj["id"]:
        changed.append("the lookup key is on another product's price")
    if changed:
        return [
            SyncAction(SyncKind.REPLACE_PRICE, product.key, label, "; ".join(changed),
                       existing["id"], {**params, "transfer_lookup_key": True})
        ]  # fmt: skip
    update: dict[str, Any] = {}
    if existing.get("lookup_key") != price.lookup_key:
        update["lookup_key"] = price.lookup_key
    if price.nickname is not None and existing.get("nickname") != price.nickname:
        update["nickname"] = price.nickname
    metadata = _metadata_update(price.metadata, existing.get("metadata") or {})
    if metadata:
        update["metadata"] = metadata
    if update:
        return [
            SyncAction(SyncKind.UPDATE_PRICE, product.key, label, ", ".join(sorted(update)),
                       existing["id"], update)
        ]  # fmt: skip
    return []


def _archive_price(product_key: str, price: dict[str, Any], reason: str) -> SyncAction:
    target = price.get("lookup_key") or price["id"]
    return SyncAction(
        SyncKind.ARCHIVE_PRICE, product_key, target, reason, price["id"], {"active": False}
    )


# -- writing ----------------------------------------------------------------------------------


def _idempotency_key(action: SyncAction, product_id: str | None, account: str | None) -> str:
    # The replaced price's id is part of the content: changing an amount back and
    # forth within Stripe's 24 h key window must create a new price each time. The
    # account too: the same product created in two accounts is two writes.
    content = json.dumps(
        [action.kind.value, action.object_id, product_id, action.params, account], sort_keys=True
    )
    return "stripekit-sync-" + hashlib.sha256(content.encode()).hexdigest()[:40]


def _apply_one(
    client: stripe.StripeClient,
    action: SyncAction,
    product_ids: dict[str, str],
    account: str | None,
) -> None:
    def _options(product_id: str | None) -> RequestOptions:
        options: RequestOptions = {"idempotency_key": _idempotency_key(action, product_id, account)}
        if account is not None:
            options["stripe_account"] = account
        return options

    kind = action.kind
    if kind is SyncKind.CREATE_PRODUCT:
        options = _options(None)
        params = cast("ProductCreateParams", action.params)
        created = call_stripe(lambda: client.v1.products.create(params, options))
        product_ids[action.product] = created.id
        return
    if kind in (SyncKind.UPDATE_PRODUCT, SyncKind.ARCHIVE_PRODUCT):
        object_id = cast(str, action.object_id)
        options = _options(object_id)
        update = cast("ProductUpdateParams", action.params)
        call_stripe(lambda: client.v1.products.update(object_id, update, options))
        return
    if kind in (SyncKind.CREATE_PRICE, SyncKind.REPLACE_PRICE):
        product_id = product_ids[action.product]
        options = _options(product_id)
        create = cast("PriceCreateParams", {**action.params, "product": product_id})
        call_stripe(lambda: client.v1.prices.create(create, options))
        if kind is SyncKind.REPLACE_PRICE:
            old = cast(str, action.object_id)
            archive = cast("PriceUpdateParams", {"active": False})
            in_account: RequestOptions = {"stripe_account": account} if account else {}
            call_stripe(lambda: client.v1.prices.update(old, archive, in_account))
        return
    object_id = cast(str, action.object_id)
    options = _options(object_id)
    price_update = cast("PriceUpdateParams", action.params)
    call_stripe(lambda: client.v1.prices.update(object_id, price_update, options))
