"""Values of alert fields: numbers, words and names as TradingView renders them, checked."""

from __future__ import annotations

import re
from decimal import Decimal

PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")
# ASCII digits only: `\d` and Decimal() also take other scripts' digits (Arabic-Indic `١`,
# full-width `１`), which no trader means as a size.
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?")
MAX_TEXT = 200


class AlertError(ValueError):
    """An alert the gateway cannot read: the field at fault and the rule it broke.

    `status` is 400 when the body itself is unreadable and 422 when a field is wrong.
    """

    def __init__(self, field: str, rule: str, status: int = 422) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
        self.status = status


def shown(value: object) -> str:
    """A value quoted for an error message, cut short so a refusal stays one line."""
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 40 else text[:37] + "...'"


def no_placeholder(field: str, value: str) -> str:
    found = PLACEHOLDER.search(value)
    if found:
        raise AlertError(
            field,
            f"{found.group(0)} is a TradingView placeholder that was not filled in "
            "(check the alert's message and that the placeholder exists for this alert)",
        )
    return value


def text(field: str, value: object) -> str:
    """A string field: numbers are accepted as text (an account number, an id)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise AlertError(field, f"must be text, got {shown(value)}")
    result = str(value).strip()
    if not result:
        raise AlertError(field, "must not be empty")
    if len(result) > MAX_TEXT:
        raise AlertError(field, f"must be at most {MAX_TEXT} characters")
    return no_placeholder(field, result)


def word(field: str, value: object) -> str:
    """A keyword such as `buy` or `Market`, compared without case, spaces or dashes."""
    return re.sub(r"[\s_\-]+", "", text(field, value)).lower()


def number(field: str, value: object) -> Decimal:
    """A decimal number from JSON (1.5), a rendered placeholder ("1.5") or a text command."""
    if isinstance(value, bool):
        raise AlertError(field, f"must be a number, got {shown(value)}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    raw = text(field, value)
    if raw.endswith("%"):
        raise AlertError(field, f"must be a number, not a percentage ({shown(raw)})")
    if raw[-1] in "$€£" or raw[0] in "$€£":
        raise AlertError(field, f"must be a number, not a money amount ({shown(raw)})")
    if not NUMBER.fullmatch(raw):
        rule = "digits 0-9" if any(c.isdigit() and not c.isascii() for c in raw) else "a number"
        raise AlertError(field, f"must be {rule}, got {shown(raw)}")
    return Decimal(raw)


def integer(field: str, value: object) -> int:
    result = number(field, value)
    if result != result.to_integral_value():
        raise AlertError(field, f"must be a whole number, got {shown(value)}")
    return int(result)


def names(field: str, value: object) -> tuple[str, ...]:
    """Instance names as a JSON list or one text: `a`, `a|b`, `a,b` or `a b`.

    `all` or `*` (alone) means every instance: the empty tuple.
    """
    items: list[object] = list(value) if isinstance(value, list) else [value]
    result: list[str] = []
    for item in items:
        result += [n for n in re.split(r"[|,\s]+", text(field, item)) if n]
    if result in (["all"], ["*"]):
        return ()
    if "*" in result or "all" in result:
        raise AlertError(field, "'all' or '*' must stand alone")
    return tuple(result)
