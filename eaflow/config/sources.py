"""Where each value of an instance's configuration in force comes from: its own scope
(`instance`), the global scope (`global`) or the model's default (`default`); and of the
global scope's configuration (`global` or `default`).

The configuration is listed field path by field path, as `eaflow config set` names them
(`max_open_orders`, `trailing_stop.distance`, `symbols.XAUUSD.lot_size`), following the
merge of eaflow.config.scopes: nested objects merge key by key, `trailing_stop: true` sets
only `enabled`, a scope setting `slippage_points` without `slippage` drops the inherited
pips, and the global `trading_state` (the kill switch) is not inherited.

Example::

    fields(snapshot.scope(GLOBAL), snapshot.scope("demo-1"))
    # [ConfigField(path="lot_size", value="0.01", source="default"), ...]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from eaflow.config.scopes import effective, validate
from model import TradingConfig

Source = Literal["instance", "global", "default"]


@dataclass(frozen=True)
class ConfigField:
    """One leaf of the configuration in force: its path, its value as JSON, its source."""

    path: str
    value: Any
    source: Source


def fields(global_doc: Mapping[str, Any], instance_doc: Mapping[str, Any]) -> list[ConfigField]:
    """Every field path of the instance's configuration in force, with its source; raises
    ConfigRefused when the documents do not make a valid configuration."""
    inherited = {k: v for k, v in global_doc.items() if k != "trading_state"}
    config = effective(global_doc, instance_doc)
    return [
        ConfigField(path, value, source_of(path, inherited, instance_doc))
        for path, value in leaves(dumped(config))
    ]


def global_fields(global_doc: Mapping[str, Any]) -> list[ConfigField]:
    """Every field path of the global scope's configuration (its `trading_state` is the
    global kill switch), `global` where the scope sets it, else `default`; raises
    ConfigRefused when the document is not a valid configuration."""
    config = validate(global_doc)
    return [
        ConfigField(path, value, "global" if sets(global_doc, path) else "default")
        for path, value in leaves(dumped(config))
    ]


def dumped(config: TradingConfig) -> dict[str, Any]:
    """`config` as JSON, a symbol's overrides with only what a scope sets (the rest is the
    instance's value)."""
    found = config.model_dump(mode="json")
    found["symbols"] = {
        symbol: override.model_dump(mode="json", exclude_unset=True)
        for symbol, override in config.symbols.items()
    }
    return found


def leaves(node: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Path and value of each leaf; an empty object is a leaf. A symbol's override set to
    null is left out: the instance's value applies."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from leaves(value, f"{path}.")
        elif value is not None or not prefix.startswith("symbols."):
            yield path, value


def source_of(path: str, inherited: Mapping[str, Any], own: Mapping[str, Any]) -> Source:
    if sets(own, path):
        return "instance"
    if sets(inherited, path) and not drops_slippage(own, path):
        return "global"
    return "default"


def sets(document: Mapping[str, Any], path: str) -> bool:
    """Whether `document` gives `path` a value (`trailing_stop: true` gives only
    `trailing_stop.enabled`)."""
    node: Any = document
    parts = path.split(".")
    for n, part in enumerate(parts):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
        if part == "trailing_stop" and isinstance(node, bool):
            return parts[n + 1 :] in ([], ["enabled"])
    return True


def drops_slippage(own: Mapping[str, Any], path: str) -> bool:
    """Whether `own` sets `slippage_points` beside an inherited `slippage` without setting
    `slippage` itself: the points win, the inherited pips are dropped."""
    parent, _, name = path.rpartition(".")
    if name != "slippage":
        return False
    node: Any = own
    for part in parent.split(".") if parent else ():
        node = node.get(part) if isinstance(node, Mapping) else None
    return isinstance(node, Mapping) and "slippage_points" in node and "slippage" not in node
