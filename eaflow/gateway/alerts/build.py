"""Turn a draft into signal fields: the command, its symbol, size, prices and targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eaflow.gateway.alerts.commands import (
    ENTRIES,
    Step,
    direction,
    is_command,
    steps,
    with_kind,
)
from eaflow.gateway.alerts.draft import UNIT_WORDS, Draft
from eaflow.gateway.alerts.positions import strategy_steps
from eaflow.gateway.alerts.values import AlertError, integer, names, number, text, word
from model import Action, OrderType, SizingMode, StopsUnit

SIDE_WORDS = {"long": "long", "buy": "long", "short": "short", "sell": "short"}
SIDED_EXITS = ("close", "cancel", "newsltp")
VOLUME_TYPES: dict[str, SizingMode | None] = {
    "lots": None,
    "risk_percent": SizingMode.RISK_PERCENT,
    "risk_money": SizingMode.RISK_MONEY,
}
GROUPS = {
    "stop_loss": "stops",
    "take_profit": "stops",
    "stops_unit": "stops",
    "lots": "sizing",
    "risk": "sizing",
}
APPLIES: dict[Action, frozenset[str]] = {
    Action.OPEN: frozenset({"volume", "price", "stop_limit", "stops", "sizing", "comment"}),
    Action.CLOSE: frozenset({"volume", "ticket"}),
    Action.CLOSE_ALL: frozenset(),
    Action.CANCEL: frozenset({"ticket"}),
    Action.SLTP: frozenset({"ticket", "stops"}),
    Action.MODIFY: frozenset({"ticket", "price", "stop_limit", "stops"}),
    Action.HALT: frozenset(),
    Action.RESUME: frozenset(),
}


@dataclass(frozen=True)
class Defaults:
    """A source's reading of text commands: `sl=`/`tp=` units, `risk=` meaning, symbol names."""

    stops_unit: StopsUnit = StopsUnit.PIPS
    volume_type: str = "lots"
    symbols: dict[str, str] = field(default_factory=dict)
    symbol_suffix: str = ""


def symbol_of(raw: object, defaults: Defaults) -> str:
    """`OANDA:EURUSD` → `EURUSD`, `EUR/USD` → `EURUSD`, then the source's map or suffix."""
    symbol = text("symbol", raw)
    exchange, colon, rest = symbol.partition(":")
    if colon and ":" not in rest and exchange.isalnum():
        symbol = rest
    symbol = symbol.replace("/", "")
    mapped = defaults.symbols.get(symbol)
    return mapped if mapped is not None else symbol + defaults.symbol_suffix


def command_word(draft: Draft) -> tuple[str, str]:
    """The one command the alert gives, as (name written, word).

    `action` + `side` combine (`close` + `long` → `closelong`); `open` + the seed's
    `order_type` (`buy`, `buy_limit`) is an entry; a bare `close: all` closes everything.
    """
    said = [(w, word(w, raw)) for w, raw in draft.commands]
    kind = draft.get("order_kind")
    if kind is not None and is_command(word(kind[0], kind[1])):
        said.append((kind[0], word(kind[0], kind[1])))
    words = [w for w in dict.fromkeys(w for _, w in said) if w != "open"]
    written = said[0][0] if said else "action"
    close = draft.get("close")
    if not words and close is not None and isinstance(close[1], (str, bool)):
        value = "all" if close[1] is True else word(close[0], close[1])
        return close[0], "closeall" if value in ("all", "true", "yes") else f"close{value}"
    if not words:
        raise AlertError(
            "action",
            "is required: give action (buy, sell, closelong, ...), "
            "a command line, or the seed's order_type",
        )
    if len(words) == 2:
        sided = [w for w in words if w in SIDE_WORDS]
        others = [w for w in words if w not in SIDE_WORDS]
        if len(sided) == 1 and others[0] in SIDED_EXITS:
            words = [others[0] + SIDE_WORDS[sided[0]]]
        elif len({direction(w) for w in words}) == 1 and direction(words[0]) is not None:
            words = [max(words, key=lambda w: ENTRIES[w].is_pending)]
    if len(words) != 1:
        raise AlertError(written, f"gives contradicting commands: {', '.join(words)}")
    return written, words[0]


def base_steps(draft: Draft) -> list[Step]:
    written, command = command_word(draft)
    planned = [dict(step) for step in steps(written, command)]
    kind = draft.get("order_kind")
    entry = planned[-1]
    if kind is not None and entry["action"] is Action.OPEN and not is_command(word(*kind)):
        entry["order_type"] = with_kind(entry["order_type"], kind[0], word(kind[0], kind[1]))
    return planned


def signals(draft: Draft, defaults: Defaults) -> tuple[list[dict[str, Any]], list[str]]:
    """Signal fields (not yet validated) for each step, and the names that were ignored.

    Fields a step does not use (a stop loss on `closelong`) are ignored and reported: one
    TradingView template often serves every order of a strategy.
    """
    ignored = list(draft.ignored)
    planned = base_steps(draft)
    if len(planned) == 1 and planned[0].get("order_type") in (OrderType.BUY, OrderType.SELL):
        planned = strategy_steps(draft, planned[0])
    common = targets(draft, defaults)
    order_id = draft.get("order_id")
    result = []
    for n, step in enumerate(planned):
        last = n == len(planned) - 1
        uses = APPLIES[step["action"]]
        fields = dict(common)
        options = {
            **order_values(draft, defaults),
            **comment(draft),
            **stops(draft, defaults, step["action"]),
        }
        for name, value in options.items():
            if GROUPS.get(name, name) in uses:
                fields["volume" if name == "lots" else name] = value
            elif last and not any(GROUPS.get(name, name) in APPLIES[s["action"]] for s in planned):
                ignored.append(name)
        fields.update(step)
        if order_id is not None:
            fields["order_id"] = text(order_id[0], order_id[1]) + ("" if last else ".close")
        if step["action"] is Action.OPEN and not step["order_type"].is_pending:
            fields.pop("price", None)
        result.append({k: v for k, v in fields.items() if v is not None})
    return result, list(dict.fromkeys(ignored))


def targets(draft: Draft, defaults: Defaults) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if (symbol := draft.get("symbol")) is not None:
        fields["symbol"] = symbol_of(symbol[1], defaults)
    if (instances := draft.get("instances")) is not None:
        fields["instances"] = names(instances[0], instances[1])
    if (group := draft.get("group")) is not None:
        fields["group"] = text(group[0], group[1])
    if (signal_id := draft.get("signal_id")) is not None:
        fields["signal_id"] = text(signal_id[0], signal_id[1])
    return fields


def order_values(draft: Draft, defaults: Defaults) -> dict[str, Any]:
    """Volume (or sizing + risk), ticket and prices. `risk=` of a text command follows the
    source's volume type; a JSON `risk` is a percent of balance unless `sizing` says else."""
    fields: dict[str, Any] = {}
    if (volume := draft.get("volume")) is not None:
        fields["volume"] = number(volume[0], volume[1])
    if (ticket := draft.get("ticket")) is not None:
        fields["ticket"] = integer(ticket[0], ticket[1])
    for name in ("price", "stop_limit"):
        if (value := draft.get(name)) is not None:
            fields[name] = number(value[0], value[1])
    if (sizing := draft.get("sizing")) is not None:
        fields["sizing"] = word(sizing[0], sizing[1]).replace("risk", "risk_", 1)
    for name, preset in (
        ("risk_money", SizingMode.RISK_MONEY),
        ("risk_percent", SizingMode.RISK_PERCENT),
    ):
        if (value := draft.get(name)) is not None:
            fields.update(sizing=preset, risk=number(value[0], value[1]))
    if (risk := draft.get("risk")) is not None:
        amount = number(risk[0], risk[1])
        mode = VOLUME_TYPES[defaults.volume_type if draft.text_command else "risk_percent"]
        if "sizing" in fields:
            fields["risk"] = amount
        elif mode is None:
            if "volume" in fields and fields["volume"] != amount:
                raise AlertError(risk[0], "gives lots and so does the volume: give one")
            fields["lots"] = amount  # an entry's size only: never a partial close
        else:
            fields.update(sizing=mode, risk=amount)
    return fields


def stops(draft: Draft, defaults: Defaults, action: Action) -> dict[str, Any]:
    """stop_loss/take_profit with one unit: named (`sl_pips`), given, or the default."""
    given = draft.get("stops_unit")
    explicit = UNIT_WORDS.get(word(given[0], given[1])) if given else None
    if given is not None and explicit is None:
        raise AlertError(given[0], f"unknown unit (known: {', '.join(UNIT_WORDS)})")
    if action in (Action.SLTP, Action.MODIFY):
        default = StopsUnit.PRICE  # a change of an existing order is always a price
    else:
        default = explicit or (defaults.stops_unit if draft.text_command else StopsUnit.PRICE)
    fields: dict[str, Any] = {}
    units: dict[str, StopsUnit] = {}
    for name in ("stop_loss", "take_profit"):
        entry = draft.get(name)
        if entry is None:
            continue
        written, pair = entry
        raw, unit = pair if isinstance(pair, tuple) else (pair, None)
        units[written] = UNIT_WORDS[unit] if unit else default
        fields[name] = number(written, raw)
    if len(set(units.values())) > 1:
        listed = ", ".join(f"{k} in {v}" for k, v in units.items())
        raise AlertError(next(iter(units)), f"stop loss and take profit need one unit ({listed})")
    if units:
        fields["stops_unit"] = next(iter(units.values()))
    return fields


def comment(draft: Draft) -> dict[str, str]:
    if (given := draft.get("comment")) is not None:
        return {"comment": text(given[0], given[1])}
    if (name := draft.get("order_name")) is not None:
        return {"comment": text(name[0], name[1])[:64]}
    return {}
