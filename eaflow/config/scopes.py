"""Configuration scopes: global defaults and per-instance overrides as partial documents.

A scope holds only what was set (`{"max_open_orders": 5, "symbols": {"XAUUSD": {...}}}`);
an instance's effective configuration is the defaults, then the global scope, then its own
scope, merged field by field. The global `trading_state` is the global kill switch and is
not inherited: each instance has its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import ValidationError

from model import TradingConfig, refusal_of

GLOBAL = "*"
"""The scope of global defaults (no instance id can be `*`)."""

Document = dict[str, Any]

LIST_FIELDS = frozenset({"allowed_symbols", "allowed_sources", "allowed_sessions"})


class ConfigRefused(ValueError):
    """A change that would make some configuration invalid: the field and its rule."""

    def __init__(self, field: str, rule: str, scope: str = GLOBAL) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule
        self.scope = scope


WHOLE_NUMBERS = range(-(2**63), 2**64)
"""Whole numbers a scope's JSON can hold (orjson writes 64 bits at most)."""


def storable(value: Any) -> bool:
    """Whether `value` (and all it holds) can be stored: no whole number beyond 64 bits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value in WHOLE_NUMBERS
    if isinstance(value, Mapping):
        return all(storable(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(storable(v) for v in value)
    return True


def scope_name(scope: str) -> str:
    return "global" if scope == GLOBAL else scope


def parse_value(path: str, text: str) -> Any:
    """A command-line value: JSON for lists, objects, true/false/null, else the text itself
    (pydantic turns "5" into 5 and "0.1" into an exact Decimal); list fields also take
    comma-separated text."""
    stripped = text.strip()
    if stripped[:1] in ("[", "{", '"') or stripped in ("true", "false", "null"):
        try:
            return orjson.loads(stripped)
        except orjson.JSONDecodeError as error:
            raise ConfigRefused(path, f"is not valid JSON: {error}") from error
    if path in LIST_FIELDS:
        return [part.strip() for part in stripped.split(",") if part.strip()]
    return stripped


def check_path(path: str) -> list[str]:
    parts = path.split(".")
    if not all(parts):
        raise ConfigRefused(path, "is not a field path (use e.g. trailing_stop.distance)")
    if parts[0] not in TradingConfig.model_fields:
        known = ", ".join(TradingConfig.model_fields)
        raise ConfigRefused(path, f"is not a configuration field (known: {known})")
    return parts


def assign(document: Document, path: str, value: Any) -> Document:
    """A copy of `document` with `path` set to `value` (None too: `max_spread=null`)."""
    parts = check_path(path)
    if parts[-1] == "trailing_stop" and isinstance(value, bool):
        parts.append("enabled")  # `trailing_stop=true` keeps the configured distances
    result = _copy(document)
    node = result
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
    return result


def remove(document: Document, path: str) -> Document:
    """A copy of `document` without `path`: the value is inherited again."""
    parts = check_path(path)
    result = _copy(document)
    node = result
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return result
        node = child
    node.pop(parts[-1], None)
    return _pruned(result)


def lookup(document: Mapping[str, Any], path: str) -> Any:
    node: Any = document
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(path)
        node = node[part]
    return node


def merge(*documents: Mapping[str, Any]) -> Document:
    """Later documents win, nested objects (trailing_stop, symbols) merge key by key.

    `trailing_stop: true` is `{"enabled": true}`; a document that sets `slippage_points`
    without `slippage` (pips, which would win) means the points: the pips inherited go."""
    result: Document = {}
    for document in documents:
        if "slippage_points" in document and "slippage" not in document:
            result.pop("slippage", None)
        for key, value in document.items():
            old = result.get(key)
            if key == "trailing_stop" and isinstance(value, bool):
                value = {"enabled": value}
            if isinstance(value, Mapping) and isinstance(old, Mapping):
                result[key] = merge(old, value)
            else:
                result[key] = _copy(value) if isinstance(value, dict) else value
    return result


def effective(global_doc: Mapping[str, Any], instance_doc: Mapping[str, Any]) -> TradingConfig:
    """An instance's configuration; raises ConfigRefused naming the field and rule."""
    inherited = {k: v for k, v in global_doc.items() if k != "trading_state"}
    return validate(merge(inherited, instance_doc))


def validate(document: Mapping[str, Any]) -> TradingConfig:
    try:
        return TradingConfig.model_validate(document)
    except ValidationError as error:
        field, rule = refusal_of(error)
        raise ConfigRefused(field, rule) from error


def canonical(document: Mapping[str, Any], config: TradingConfig) -> Document:
    """`document` with each value as the validated configuration spells it ("0.1", not 0.1)."""
    dumped = config.model_dump(mode="json")
    return _canonical(document, dumped)


def _canonical(document: Mapping[str, Any], dumped: Mapping[str, Any]) -> Document:
    result: Document = {}
    for key, value in document.items():
        shown = dumped.get(key)
        if isinstance(value, Mapping) and isinstance(shown, Mapping):
            result[key] = _canonical(value, shown)
        else:
            result[key] = shown
    return result


def _copy(document: Document) -> Document:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in document.items()}


def _pruned(document: Document) -> Document:
    """Without the empty objects a removal leaves behind."""
    result: Document = {}
    for key, value in document.items():
        if isinstance(value, dict):
            value = _pruned(value)
            if not value:
                continue
        result[key] = value
    return result
