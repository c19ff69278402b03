"""Alert bodies → drafts → signal fields: JSON shapes and text commands on one URL.

TradingView posts the alert message as JSON when it parses as JSON and as text otherwise,
so the body's content decides, never its Content-Type.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from eaflow.gateway.alerts.build import Defaults, signals
from eaflow.gateway.alerts.draft import Draft
from eaflow.gateway.alerts.shapes import json_drafts
from eaflow.gateway.alerts.text import text_drafts
from eaflow.gateway.alerts.values import AlertError

__all__ = ["AlertError", "Defaults", "Draft", "read_body", "signals"]


def read_body(raw: bytes, max_signals: int = 20) -> list[Draft]:
    """The alerts of one request body, in order; AlertError says what is wrong with it."""
    try:
        body = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise AlertError("body", f"is not UTF-8 text (byte {error.start})", 400) from None
    if "\x00" in body:
        raise AlertError("body", "holds a NUL character", 400)
    stripped = body.strip()
    if not stripped:
        raise AlertError("body", "is empty", 400)
    try:
        parsed = orjson.loads(stripped)
    except orjson.JSONDecodeError as error:
        if stripped[0] in "{[":
            raise AlertError(
                "body",
                f"looks like JSON but is not valid JSON ({error.msg} at line {error.lineno} "
                f"column {error.colno}); TradingView then sends it as text. Quote every "
                "placeholder that may not render as a number, and check commas and quotes",
                400,
            ) from None
        return text_drafts(stripped, max_signals)
    if not isinstance(parsed, dict | list):
        raise AlertError("body", "must be a JSON object, an array of objects or text", 400)
    try:
        json.loads(stripped, object_pairs_hook=unique_keys)  # orjson keeps the last of a key
    except RecursionError:
        raise AlertError("body", "nests objects or arrays too deep", 400) from None
    return json_drafts(parsed, max_signals)


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are all different: JSON parsers keep the first or the last of
    a repeated key, so `"volume": 0.01, "volume": 50` means what the reader decides."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise AlertError(
                key[:64],
                "is given twice in one object: give each field once (JSON keeps only one of them)",
            )
        seen.add(key)
    return {}
