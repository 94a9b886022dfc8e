"""Products and prices: the catalog."""

from __future__ import annotations

from typing import Any

from stripe.params import (
    PriceCreateParams,
    PriceListParams,
    PriceUpdateParams,
    ProductCreateParams,
    ProductListParams,
    ProductUpdateParams,
)

from stripekit.catalog._currencies import currency_problem

from ._core import Emulator, as_bool, as_int, matching, metadata_update, required
from ._routes import route
from ._wire import StripeError

__all__: list[str] = []

_PRODUCT_FIELDS = ("name", "description", "images", "url", "unit_label", "statement_descriptor")
_PRODUCT_HONOURS = (*_PRODUCT_FIELDS, "active", "metadata", "marketing_features[name]")
_PRICE_HONOURS = ("active", "lookup_key", "metadata", "nickname", "tax_behavior")


# -- products -----------------------------------------------------------------------------------


@route(
    "POST",
    "/v1/products",
    ProductCreateParams,
    honours=(
        *_PRODUCT_HONOURS,
        "id",
        "default_price_data[currency]",
        "default_price_data[unit_amount]",
        "default_price_data[metadata]",
        "default_price_data[tax_behavior]",
        "default_price_data[recurring][interval]",
        "default_price_data[recurring][interval_count]",
    ),
)
def create_product(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    required(params, "name")
    values = {k: params[k] for k in _PRODUCT_FIELDS if k in params}
    values.setdefault("images", [])
    product = emu.state.new(
        "product",
        **values,
        active=as_bool(params, "active", True),
        metadata=metadata_update({}, params.get("metadata", {})),
        marketing_features=[{"name": f.get("name")} for f in params.get("marketing_features", [])],
        updated=emu.state.clock.now(),
        type="service",
    )
    if params.get("id"):
        emu.state.objects.pop(product["id"])
        product["id"] = params["id"]
        emu.state.objects[product["id"]] = product
    emu.emit("product.created", product)
    if params.get("default_price_data"):
        price = create_price(emu, {**params["default_price_data"], "product": product["id"]})
        product["default_price"] = price["id"]
    return product


@route("GET", "/v1/products/{id}")
def retrieve_product(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("product", id)


@route(
    "POST", "/v1/products/{id}", ProductUpdateParams, honours=(*_PRODUCT_HONOURS, "default_price")
)
def update_product(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    product = emu.state.get("product", id)
    before = dict(product)
    for key in _PRODUCT_FIELDS:
        if key in params:
            product[key] = params[key] or ([] if key == "images" else None)
    if "active" in params:
        product["active"] = as_bool(params, "active")
    if "default_price" in params:
        if params["default_price"]:
            price = emu.state.get("price", params["default_price"])
            if price["product"] != id:
                raise StripeError(
                    400,
                    f"The price `{price['id']}` does not belong to product `{id}`.",
                    param="default_price",
                )
        product["default_price"] = params["default_price"] or None
    if "metadata" in params:
        product["metadata"] = metadata_update(product["metadata"], params["metadata"])
    if "marketing_features" in params:
        features = params["marketing_features"] or []
        product["marketing_features"] = [{"name": f.get("name")} for f in features]
    product["updated"] = emu.state.clock.now()
    emu.emit_updated("product.updated", product, before)
    return product


@route("DELETE", "/v1/products/{id}")
def delete_product(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    """Stripe deletes only a product no price was ever made for (archive it otherwise)."""
    product = emu.state.get("product", id)
    if any(p["product"] == id for p in emu.state.all("price")):
        raise StripeError(
            400,
            "This product cannot be deleted because it has one or more user-created prices. "
            "Archive it instead (active=false).",
            param="id",
        )
    del emu.state.objects[id]
    emu.emit("product.deleted", product)
    return {"id": id, "object": "product", "deleted": True}


@route("GET", "/v1/products", ProductListParams, honours=("active", "ids"))
def list_products(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("product")
    if "active" in params:
        items = [p for p in items if p["active"] == as_bool(params, "active")]
    if params.get("ids"):
        items = [p for p in items if p["id"] in params["ids"]]
    return emu.list_of(items, params, "/v1/products", "product")


# -- prices -------------------------------------------------------------------------------------


@route(
    "POST",
    "/v1/prices",
    PriceCreateParams,
    honours=(
        *_PRICE_HONOURS,
        "currency",
        "unit_amount",
        "product",
        "transfer_lookup_key",
        "recurring[interval]",
        "recurring[interval_count]",
        "recurring[trial_period_days]",
        *(
            f"product_data[{name}]"
            for name in ("name", "active", "id", "metadata", "statement_descriptor", "unit_label")
        ),
    ),
)
def create_price(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    currency = str(required(params, "currency")).lower()
    if currency_problem(currency):
        raise StripeError(
            400, f"Invalid currency: {currency}.", code="parameter_invalid_string", param="currency"
        )
    if "unit_amount" not in params:
        raise StripeError(
            400,
            "The emulator only creates fixed prices: give unit_amount.",
            code="parameter_missing",
            param="unit_amount",
        )
    amount = as_int(params, "unit_amount")
    if amount < 0:
        raise StripeError(400, "Invalid unit_amount: must be at least 0", param="unit_amount")
    if params.get("product_data"):
        product = create_product(emu, params["product_data"])
    elif params.get("product"):
        product = emu.state.get("product", params["product"])
    else:
        raise StripeError(
            400, "Missing required param: product.", code="parameter_missing", param="product"
        )
    recurring = None
    if params.get("recurring"):
        interval = params["recurring"].get("interval")
        if interval not in ("day", "week", "month", "year"):
            raise StripeError(
                400,
                "Invalid recurring[interval]: must be one of day, week, month, or year",
                param="recurring[interval]",
            )
        recurring = {
            "interval": interval,
            "interval_count": as_int(params["recurring"], "interval_count", default=1),
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
        if params["recurring"].get("trial_period_days"):
            recurring["trial_period_days"] = as_int(params["recurring"], "trial_period_days")
    lookup_key = params.get("lookup_key") or None
    _take_lookup_key(emu, lookup_key, as_bool(params, "transfer_lookup_key"))
    price = emu.state.new(
        "price",
        active=as_bool(params, "active", True),
        billing_scheme="per_unit",
        currency=currency,
        lookup_key=lookup_key,
        metadata=metadata_update({}, params.get("metadata", {})),
        nickname=params.get("nickname") or None,
        product=product["id"],
        recurring=recurring,
        tax_behavior=params.get("tax_behavior") or "unspecified",
        type="recurring" if recurring else "one_time",
        unit_amount=amount,
        unit_amount_decimal=str(amount),
    )
    emu.emit("price.created", price)
    return price


def _take_lookup_key(
    emu: Emulator, lookup_key: str | None, transfer: bool, keep: str | None = None
) -> None:
    if lookup_key is None:
        return
    for other in emu.state.all("price"):
        if other["lookup_key"] == lookup_key and other["id"] != keep:
            if not transfer:
                raise StripeError(
                    400,
                    f"A price (`{other['id']}`) already uses that lookup key. Pass "
                    "`transfer_lookup_key=true` to move it to this price.",
                    code="lookup_key_already_exists",
                    param="lookup_key",
                )
            before = dict(other)
            other["lookup_key"] = None
            emu.emit_updated("price.updated", other, before)


@route("GET", "/v1/prices/{id}")
def retrieve_price(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    return emu.state.get("price", id)


@route(
    "POST",
    "/v1/prices/{id}",
    PriceUpdateParams,
    honours=(*_PRICE_HONOURS, "transfer_lookup_key"),
)
def update_price(emu: Emulator, params: dict[str, Any], id: str) -> dict[str, Any]:
    price = emu.state.get("price", id)
    before = dict(price)
    if "lookup_key" in params:
        lookup_key = params["lookup_key"] or None
        _take_lookup_key(emu, lookup_key, as_bool(params, "transfer_lookup_key"), keep=id)
        price["lookup_key"] = lookup_key
    if "active" in params:
        price["active"] = as_bool(params, "active")
    if "nickname" in params:
        price["nickname"] = params["nickname"] or None
    if "metadata" in params:
        price["metadata"] = metadata_update(price["metadata"], params["metadata"])
    if "tax_behavior" in params:
        if price["tax_behavior"] not in ("unspecified", params["tax_behavior"]):
            raise StripeError(
                400, "tax_behavior cannot be changed once it is specified", param="tax_behavior"
            )
        price["tax_behavior"] = params["tax_behavior"]
    emu.emit_updated("price.updated", price, before)
    return price


@route(
    "GET",
    "/v1/prices",
    PriceListParams,
    honours=("active", "lookup_keys", "product", "currency", "type"),
)
def list_prices(emu: Emulator, params: dict[str, Any]) -> dict[str, Any]:
    items = emu.state.all("price")
    if "active" in params:
        items = [p for p in items if p["active"] == as_bool(params, "active")]
    if params.get("lookup_keys"):
        items = [p for p in items if p["lookup_key"] in params["lookup_keys"]]
    items = matching(items, params, "product", "currency", "type")
    return emu.list_of(items, params, "/v1/prices", "price")
