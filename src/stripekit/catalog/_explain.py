"""Turn pydantic's validation report into one CatalogError that says what to fix.

The message names the field as the products file spells it
(``prices[0].interval``) and, for a typo, the field that was meant.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from stripekit._errors import CatalogError

__all__ = ["FieldProblem", "catalog_error"]


class FieldProblem(ValueError):
    """A cross-field rule broken at ``field`` (relative to the model that raised it)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


def catalog_error(
    exc: ValidationError, model: type[BaseModel], *, file: str | None, product: str | None
) -> CatalogError:
    """One CatalogError for pydantic's report on ``model`` (the class that was validated)."""
    errors = exc.errors(include_url=False)
    errors = [e for e in errors if not _shadowed(e, errors)] or errors
    # A misspelt field also makes the real one "missing": the typo is the news.
    errors.sort(key=lambda e: e["type"] != "extra_forbidden")
    error = errors[0]
    loc = [part for part in error["loc"] if part not in ("[key]",)]
    message = _explain(error, model, loc)
    problem = (error.get("ctx") or {}).get("error")
    if isinstance(problem, FieldProblem):
        loc = [*loc, *_split_field(problem.field)]
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return CatalogError(message, file=file, product=product, field=_format_loc(loc) or None)


def _shadowed(error: ErrorDetails, errors: list[ErrorDetails]) -> bool:
    """Whether a "missing" error only repeats a typo: ``nmae`` leaves ``name`` missing."""
    loc = error["loc"]
    if error["type"] != "missing" or not loc:
        return False
    name = str(loc[-1])
    for other in errors:
        if other["loc"][:-1] != loc[:-1]:
            continue
        other_name = str(other["loc"][-1])
        if other["type"] == "extra_forbidden" and difflib.get_close_matches(other_name, [name]):
            return True
    return False


def _split_field(field: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", field):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    return parts


def _format_loc(loc: Iterable[str | int]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _model_at(root: type[BaseModel], loc: list[str | int]) -> type[BaseModel]:
    """The model that holds the field at ``loc``: walks nested models and lists of them."""
    model = root
    for part in loc:
        if isinstance(part, int) or part not in model.model_fields:
            continue
        nested = _nested_model(model.model_fields[part].annotation)
        if nested is not None:
            model = nested
    return model


def _nested_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None


def _explain(error: ErrorDetails, root: type[BaseModel], loc: list[str | int]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    name = str(loc[-1]) if loc else ""
    if kind == "missing":
        what = {
            "mode": ': "payment" (one-time) or "subscription"',
            "prices": ": add a [[products.<key>.prices]] entry",
        }.get(name, "")
        return f"{name} is required{what}"
    if kind == "extra_forbidden":
        fields = sorted(_model_at(root, loc[:-1]).model_fields)
        hint = difflib.get_close_matches(name, fields, n=1)
        tip = f"did you mean {hint[0]!r}? " if hint else ""
        return f"unknown field {name!r}; {tip}allowed: {', '.join(fields)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a table, got {value!r}"
    if kind == "list_type":
        return f"must be a list, got {value!r}"
    if kind == "string_type":
        return f"must be a string (in quotes), got {value!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        unit = " of minor units (1500 usd is $15.00)" if name == "amount" else ""
        return f"must be a whole number{unit}, got {value!r}"
    if kind == "literal_error":
        hint = difflib.get_close_matches(str(value), re.findall(r"'([^']*)'", ctx["expected"]), 1)
        tip = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"must be {ctx['expected']}, got {value!r}{tip}"
    if kind == "greater_than_equal":
        if name == "amount":
            return f"must be 0 or more minor units, got {value!r}"
        return f"must be {ctx['ge']} or more, got {value!r}"
    if kind == "less_than_equal":
        return f"must be at most {ctx['le']}, got {value!r}"
    if kind == "string_pattern_mismatch" and name == "key":
        return (
            f"product key {value!r} must be lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if kind == "string_pattern_mismatch" and name == "id":
        return f"must be a Stripe product id (prod_...), got {value!r}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters long"
    if kind == "too_short" and name == "prices":
        return "a product needs at least one price: add a [[products.<key>.prices]] entry"
    if kind == "too_long":
        return f"has too many entries; Stripe allows at most {ctx['max_length']}"
    return error["msg"].removeprefix("Value error, ")
