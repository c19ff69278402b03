"""The frozen, strict base of every stream message, and readable refusals."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

EpochSeconds = Annotated[float, Field(ge=0, lt=1e11, allow_inf_nan=False)]
"""A time as Unix seconds: finite, not before 1970 nor after the year 5138, so every store
(and every duration computed from it) can hold it."""


class Message(BaseModel):
    """Immutable, slotted-like message: unknown fields are refused, values are checked."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def refusal_of(error: ValidationError) -> tuple[str, str]:
    """The first failing field and its rule, e.g. `("volume", "must be greater than 0")`.

    Refusals name the field so a trader can fix the alert that caused them.
    """
    first = error.errors()[0]
    loc = ".".join(_shown(part) for part in first["loc"])
    msg = first["msg"].removeprefix("Value error, ")
    if not loc:  # the whole body; a rule across fields is raised as "field: rule"
        field, _, rule = msg.partition(": ")
        return (field, rule) if rule and first["type"] == "value_error" else ("body", msg)
    return loc, msg


def _shown(part: str | int) -> str:
    """A field name as written, quoted when it is empty or blank-edged (an unknown key
    like "\\r" would otherwise vanish from the refusal)."""
    text = str(part)
    return text if text and text.strip() == text else repr(text)
