"""JSON alert bodies: one object, an array of objects, or `{"signals": [...]}` sharing a secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eaflow.gateway.alerts.draft import Draft
from eaflow.gateway.alerts.values import AlertError

MAX_DEPTH = 4
SHARED = ("source", "secret", "passphrase", "key", "token")


def leaves(
    value: dict[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (path, value) of a nested object; lists are values, not objects."""
    if len(path) >= MAX_DEPTH:
        raise AlertError(".".join(path), f"objects nested deeper than {MAX_DEPTH} levels")
    for key, item in value.items():
        if isinstance(item, dict):
            yield from leaves(item, (*path, key))
        else:
            yield (*path, key), item


def draft(item: object, where: str, shared: dict[str, Any]) -> Draft:
    """The draft of one alert object; errors name the item of an array (`[1].symbol`)."""
    if not isinstance(item, dict):
        raise AlertError(where or "body", f"must be a JSON object, got {type(item).__name__}", 400)
    result = Draft()
    try:
        for path, value in leaves({**shared, **item}):
            result.add(path, value)
    except AlertError as error:
        raise AlertError(where + error.field, error.rule, error.status) from None
    return result


def json_drafts(body: object, max_signals: int) -> list[Draft]:
    """One draft per alert object in the body, in order."""
    if isinstance(body, dict) and isinstance(body.get("signals"), list):
        items: list[object] = body["signals"]
        shared = {k: v for k, v in body.items() if k != "signals"}
        unknown = [k for k in shared if k.lower() not in SHARED]
        if unknown:
            raise AlertError(unknown[0], "beside 'signals' only source and secret may be given")
    elif isinstance(body, list):
        items, shared = body, {}
    elif isinstance(body, dict):
        items, shared = [body], {}
    else:
        raise AlertError("body", "must be a JSON object or an array of objects", 400)
    if not items:
        raise AlertError("body", "holds no alert", 400)
    if len(items) > max_signals:
        raise AlertError("body", f"holds {len(items)} alerts; at most {max_signals} per request")
    prefix = len(items) > 1 or isinstance(body, list)
    return [draft(it, f"[{n}]." if prefix else "", shared) for n, it in enumerate(items)]
