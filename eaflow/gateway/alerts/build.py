"""Turn a draft into signal fields: the command, its symbol, size, prices and targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from eaflow.gateway.alerts.commands import (
    ENTRIES,
    Step,
    direction,
    is_command,
    steps,
    with_kind,
)
from eaflow.gateway.alerts.draft import LEGS, UNIT_WORDS, Draft
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
    "take_profits": "stops",
    "stops_unit": "stops",
    "lots": "sizing",
    "risk": "sizing",
    "price_unit": "price",
    "type_time": "expiry",
    "expiration": "expiry",
    "max_spread_pips": "filters",
    "min_balance": "filters",
    "min_equity": "filters",
    "min_margin_free": "filters",
    "min_margin_level": "filters",
    "close_percent": "percent",
}
ENTRY = frozenset(
    {"volume", "price", "stop_limit", "stops", "sizing", "comment", "strategy", "expiry",
     "trailing", "filters"}
)  # fmt: skip
APPLIES: dict[Action, frozenset[str]] = {
    Action.OPEN: ENTRY,
    Action.CLOSE: frozenset({"volume", "ticket", "percent", "strategy"}),
    Action.CLOSE_ALL: frozenset({"strategy"}),
    Action.CANCEL: frozenset({"ticket", "strategy"}),
    Action.SLTP: frozenset({"ticket", "stops", "strategy"}),
    Action.MODIFY: frozenset({"ticket", "price", "stop_limit", "stops", "expiry"}),
    Action.HALT: frozenset(),
    Action.RESUME: frozenset(),
}


@dataclass(frozen=True)
class Defaults:
    """A source's reading of text commands: `sl=`/`tp=` and `price=` units, `risk=` meaning,
    symbol names."""

    stops_unit: StopsUnit = StopsUnit.PIPS
    entry_unit: StopsUnit = StopsUnit.PRICE
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
        switch = step["action"] in SWITCHES  # closealleaoff's eaoff takes no symbol
        fields = {k: v for k, v in common.items() if not (switch and k == "symbol")}
        options = {
            **order_values(draft, defaults),
            **labels(draft),
            **stops(draft, defaults, step["action"]),
            **expiry(draft),
            **trailing(draft),
            **filters(draft),
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
            market_price(fields, draft)
        result.append({k: v for k, v in fields.items() if v is not None})
    return result, list(dict.fromkeys(ignored))


SWITCHES = (Action.HALT, Action.RESUME)


def market_price(fields: dict[str, Any], draft: Draft) -> None:
    """A market order fills at the current price: a price given with it (TradingView's
    `{{close}}`) is dropped, but a distance would mean a pending order and is refused."""
    unit = fields.pop("price_unit", StopsUnit.PRICE)
    if fields.pop("price", None) is not None and unit is not StopsUnit.PRICE:
        written = (draft.get("price") or ("price",))[0]
        raise AlertError(
            written,
            f"a distance ({unit}) places a pending order; a {fields['order_type']} fills at "
            "the current price (use buylimit, buystop, selllimit or sellstop)",
        )
    fields.pop("stop_limit", None)


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
    """Volume (or sizing + risk), ticket, prices and a partial close's percent. `risk=` of a
    text command follows the source's volume type; a JSON `risk` is a percent of balance
    unless `sizing` says else. A pending `price=` is a price, or a distance from the current
    price in the unit its name gives (`price_pips=`), else the source's entry unit (text) or
    `price_unit` (JSON)."""
    fields: dict[str, Any] = {}
    if (volume := draft.get("volume")) is not None:
        fields["volume"] = number(volume[0], volume[1])
    if (ticket := draft.get("ticket")) is not None:
        fields["ticket"] = integer(ticket[0], ticket[1])
    if (price := draft.get("price")) is not None:
        written, (raw, unit) = price[0], pair(price[1])
        fields["price"] = number(written, raw)
        fields["price_unit"] = UNIT_WORDS[unit] if unit else entry_unit(draft, defaults)
    if (value := draft.get("stop_limit")) is not None:
        fields["stop_limit"] = number(value[0], value[1])
    if (percent := draft.get("percent")) is not None:
        fields["close_percent"] = number(percent[0], percent[1])
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


def pair(value: object) -> tuple[object, str | None]:
    """A unit-bearing field's (raw value, unit written in its name or None)."""
    if isinstance(value, tuple):
        raw, unit = value
        return raw, unit if isinstance(unit, str) else None
    return value, None


def entry_unit(draft: Draft, defaults: Defaults) -> StopsUnit:
    given = draft.get("price_unit")
    if given is not None:
        unit = UNIT_WORDS.get(word(given[0], given[1]))
        if unit is None:
            raise AlertError(given[0], f"unknown unit (known: {', '.join(UNIT_WORDS)})")
        return unit
    return defaults.entry_unit if draft.text_command else StopsUnit.PRICE


def stops(draft: Draft, defaults: Defaults, action: Action) -> dict[str, Any]:
    """stop_loss/take_profit (or a ladder `tp1=`, `tp2=`…) with one unit: named
    (`sl_pips`), given, or the default: the source's for a text command (a `newsltp…`
    distance is from the current price), price for JSON and for a pending order's change."""
    given = draft.get("stops_unit")
    explicit = UNIT_WORDS.get(word(given[0], given[1])) if given else None
    if given is not None and explicit is None:
        raise AlertError(given[0], f"unknown unit (known: {', '.join(UNIT_WORDS)})")
    if action is Action.MODIFY or not draft.text_command:
        default = explicit or StopsUnit.PRICE
    else:
        default = explicit or defaults.stops_unit
    fields: dict[str, Any] = {}
    units: dict[str, StopsUnit] = {}
    for name in ("stop_loss", "take_profit"):
        entry = draft.get(name)
        if entry is None:
            continue
        written, (raw, unit) = entry[0], pair(entry[1])
        units[written] = UNIT_WORDS[unit] if unit else default
        fields[name] = number(written, raw)
    legs = ladder(draft, default, units)
    if legs:
        fields["take_profits"] = legs
    if len(set(units.values())) > 1:
        listed = ", ".join(f"{k} in {v}" for k, v in units.items())
        raise AlertError(next(iter(units)), f"stop loss and take profit need one unit ({listed})")
    if units:
        fields["stops_unit"] = next(iter(units.values()))
    return fields


def ladder(draft: Draft, default: StopsUnit, units: dict[str, StopsUnit]) -> list[dict[str, Any]]:
    """A take-profit ladder: `tp1=`… `tp10=` (their shares `tp1_share=`…), or a JSON list
    `take_profits` of levels or of `{"take_profit", "share"}` objects."""
    legs: list[dict[str, Any]] = []
    given = draft.get("take_profits")
    if given is not None:
        written, items = given
        if not isinstance(items, list):
            raise AlertError(written, "must be a list of levels or of {take_profit, share}")
        for n, item in enumerate(items):
            where = f"{written}[{n}]"
            if isinstance(item, dict):
                unknown = set(item) - {"take_profit", "tp", "price", "share"}
                if unknown:
                    raise AlertError(f"{where}.{sorted(unknown)[0]}", "unknown field")
                level = item.get("take_profit", item.get("tp", item.get("price")))
                leg = {"take_profit": number(f"{where}.take_profit", level)}
                if item.get("share") is not None:
                    leg["share"] = number(f"{where}.share", item["share"])
            else:
                leg = {"take_profit": number(where, item)}
            legs.append(leg)
        units[written] = default
        return legs
    numbered = [(n, draft.get(f"tp{n}")) for n in LEGS]
    present = [n for n, entry in numbered if entry is not None]
    if present and present != list(range(1, len(present) + 1)):
        raise AlertError(f"tp{present[-1]}", "ladder levels are numbered tp1, tp2, … without gaps")
    for n, entry in numbered:
        if entry is None:
            continue
        written, (raw, unit) = entry[0], pair(entry[1])
        units[written] = UNIT_WORDS[unit] if unit else default
        leg = {"take_profit": number(written, raw)}
        if (share := draft.get(f"tp{n}_share")) is not None:
            leg["share"] = number(share[0], share[1])
        legs.append(leg)
    for n in LEGS:
        share = draft.get(f"tp{n}_share")
        if share is not None and draft.get(f"tp{n}") is None:
            raise AlertError(share[0], f"is the share of tp{n}, which is not given")
    return legs


def expiry(draft: Draft) -> dict[str, Any]:
    """A pending order's life: `type_time` (gtc, day, specified, specified_day) and its
    `expiration` (Unix seconds, an ISO time, or a duration such as 90m, 4h, 1d)."""
    fields: dict[str, Any] = {}
    if (given := draft.get("type_time")) is not None:
        fields["type_time"] = word(given[0], given[1])
    if (when := draft.get("expiration")) is not None:
        written, raw = when
        value = raw if isinstance(raw, (int, float)) else text(written, raw)
        if isinstance(value, str) and word(written, value) in ("day", "gtc"):
            fields["type_time"] = word(written, value)  # `expiry=day`: a day order
        else:
            fields["expiration"] = value
    return fields


def trailing(draft: Draft) -> dict[str, Any]:
    """Trailing stop and break-even that ride with the position: PineConnector's pips
    (`trtrig=`, `trdist=`, `trstep=`, `betrigger=`, `beoffset=`), or distances from the ATR
    the alert carries (`atr=` times `atrmultiplier=`, started at `atrtrigger=` ATRs)."""
    values = {
        name: number(entry[0], entry[1])
        for name, key in (
            ("breakeven_trigger", "be_trigger"),
            ("breakeven_offset", "be_offset"),
            ("activation", "trail_trigger"),
            ("distance", "trail_distance"),
            ("step", "trail_step"),
        )
        if (entry := draft.get(key)) is not None
    }
    if (settings := draft.get("atr_settings")) is not None:
        raise AlertError(
            settings[0],
            "eaflow computes no ATR from bars: put the ATR's value in the alert as atr= "
            "(e.g. atr={{plot_0}}) with atrmultiplier= and atrtrigger=",
        )
    atr = draft.get("atr")
    for name in ("atr_multiplier", "atr_trigger"):
        if (entry := draft.get(name)) is not None and atr is None:
            raise AlertError(entry[0], "needs the ATR's value as atr=")
    unit_given = draft.get("trail_unit")
    unit = UNIT_WORDS.get(word(*unit_given)) if unit_given else StopsUnit.PIPS
    if unit_given is not None and unit is None:
        raise AlertError(unit_given[0], f"unknown unit (known: {', '.join(UNIT_WORDS)})")
    if atr is not None:
        if "distance" in values or "activation" in values:
            raise AlertError(
                atr[0], "trails by the ATR: give trdist=/trtrig= in pips, or atr=, not both"
            )
        value = number(atr[0], atr[1])
        multiplier = draft.get("atr_multiplier")
        times = number(multiplier[0], multiplier[1]) if multiplier else Decimal(1)
        values["distance"] = value * times
        if (trigger := draft.get("atr_trigger")) is not None:
            values["activation"] = value * number(trigger[0], trigger[1])
        if values.keys() - {"distance", "activation"} and unit is not StopsUnit.PRICE:
            raise AlertError(
                atr[0],
                "is a price distance, betrigger=/beoffset=/trstep= are pips: one alert's "
                "trailing takes one unit (trailing_unit=price to give them in price)",
            )
        unit = StopsUnit.PRICE
    if not values:
        return {}
    return {"trailing": {**values, "unit": unit}}


def filters(draft: Draft) -> dict[str, Any]:
    """PineConnector's spread filter (`spread=`, pips) and account filter (`accfilter=`: a
    minimum balance; `accfilter_equity=`, `accfilter_free_margin=`, `accfilter_margin_level=`)."""
    fields: dict[str, Any] = {}
    for name, key in (
        ("max_spread_pips", "spread"),
        ("min_balance", "min_balance"),
        ("min_equity", "min_equity"),
        ("min_margin_free", "min_margin_free"),
        ("min_margin_level", "min_margin_level"),
    ):
        if (entry := draft.get(key)) is not None:
            fields[name] = number(entry[0], entry[1])
    return fields


def labels(draft: Draft) -> dict[str, str]:
    """The comment (or TradingView's order name) and the strategy tag."""
    fields: dict[str, str] = {}
    if (given := draft.get("comment")) is not None:
        fields["comment"] = text(given[0], given[1])
    elif (name := draft.get("order_name")) is not None:
        fields["comment"] = text(name[0], name[1])[:64]
    if (strategy := draft.get("strategy")) is not None:
        fields["strategy"] = text(strategy[0], strategy[1])
    return fields
