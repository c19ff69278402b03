"""An alert read but not yet checked: its fields under eaflow's names, with the names written.

JSON objects and KEY=VALUE lines name fields in many ways (`ticker`, `strategy.order.action`,
`sl-offset`...). Each name is normalised (lower case, `-`/space/`.` → `_`), leading wrapper
objects are dropped one by one (`data.`, `general.`, `order.`) until an alias matches, and
names nobody knows are ignored and reported — unless they look like a trading parameter,
which is refused rather than silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from eaflow.gateway.alerts.values import AlertError
from model import StopsUnit

LEGS = range(1, 11)
"""`tp1=` … `tp10=`: the levels of a take-profit ladder."""
UNIT_WORDS = {
    "price": StopsUnit.PRICE,
    "pips": StopsUnit.PIPS,
    "pip": StopsUnit.PIPS,
    "points": StopsUnit.POINTS,
    "point": StopsUnit.POINTS,
    "percent": StopsUnit.PERCENT,
    "pct": StopsUnit.PERCENT,
}

ALIASES: dict[str, tuple[str, ...]] = {
    "source": ("source",),
    "secret": ("secret", "passphrase", "key", "api_key", "apikey", "token", "password"),
    "command": (
        "action",
        "side",
        "direction",
        "signal",
        "command",
        "cmd",
        "order_action",
        "strategy_order_action",
    ),
    "order_kind": ("order_type", "type", "ordertype", "order_kind"),
    "symbol": ("symbol", "ticker", "instrument", "pair"),
    "volume": (
        "volume",
        "vol",
        "lots",
        "lot",
        "lot_size",
        "contracts",
        "quantity",
        "qty",
        "size",
        "amount",
        "order_contracts",
        "strategy_order_contracts",
        "vol_lots",
    ),
    "price": (
        "price",
        "order_price",
        "strategy_order_price",
        "entry",
        "entry_price",
        "limit_price",
    ),
    "stop_limit": ("stop_limit", "stoplimit", "stop_limit_price"),
    "stops_unit": ("stops_unit",),
    "sizing": ("sizing",),
    "risk": ("risk",),
    "risk_money": ("vol_dollar", "risk_money"),
    "risk_percent": ("vol_pct", "risk_percent"),
    "ticket": ("ticket",),
    "instances": ("instances", "instance", "accounts", "account"),
    "group": ("group",),
    "order_id": ("order_id",),
    "signal_id": ("signal_id",),
    "comment": ("comment", "order_comment"),
    "strategy": ("strategy", "strategy_tag", "tag"),
    "price_unit": ("price_unit", "entry_unit"),
    "expiration": ("expiration", "expiry", "expires", "expire", "expiration_time"),
    "type_time": ("type_time", "time_in_force", "tif"),
    "percent": ("percent", "close_percent", "close_pct", "closepct"),
    "take_profits": ("take_profits",),
    "be_trigger": ("betrigger", "be_trigger", "breakeven_trigger"),
    "be_offset": ("beoffset", "be_offset", "breakeven_offset"),
    "trail_trigger": ("trtrig", "trail_trigger", "trailing_trigger", "trailing_activation"),
    "trail_distance": ("trdist", "trail_distance", "trailing_distance"),
    "trail_step": ("trstep", "trail_step", "trailing_step"),
    "trail_unit": ("trailing_unit", "trail_unit"),
    "atr": ("atr", "atr_value"),
    "atr_multiplier": ("atrmultiplier", "atr_multiplier", "atrmult"),
    "atr_trigger": ("atrtrigger", "atr_trigger"),
    "atr_settings": (
        "atrtimeframe",
        "atr_timeframe",
        "atrperiod",
        "atr_period",
        "atrshift",
        "atr_shift",
    ),
    "spread": ("spread", "max_spread", "max_spread_pips"),
    "min_balance": ("accfilter", "account_filter", "accfilter_balance", "min_balance"),
    "min_equity": ("accfilter_equity", "min_equity"),
    "min_margin_free": (
        "accfilter_free_margin",
        "accfilter_freemargin",
        "accfilter_margin_free",
        "min_margin_free",
        "min_free_margin",
    ),
    "min_margin_level": ("accfilter_margin_level", "accfilter_margin", "min_margin_level"),
    "position_now": ("market_position", "strategy_market_position"),
    "position_prev": (
        "prev_market_position",
        "strategy_prev_market_position",
        "market_previous_position",
        "previous_position",
        "prev_position",
    ),
    "size_now": ("market_position_size", "strategy_market_position_size"),
    "size_prev": (
        "prev_market_position_size",
        "strategy_prev_market_position_size",
        "market_previous_position_size",
        "previous_position_size",
        "prev_position_size",
    ),
    "close": ("close",),
}
for _stop, _names in (
    ("stop_loss", ("sl", "stop_loss", "stoploss")),
    ("take_profit", ("tp", "take_profit", "takeprofit")),
    ("price", ("price", "entry", "entry_price")),
    *((f"tp{_n}", (f"tp{_n}", f"take_profit{_n}", f"take_profit_{_n}")) for _n in LEGS),
):
    ALIASES[_stop] = tuple(dict.fromkeys((*ALIASES.get(_stop, ()), *_names)))
    for _unit in UNIT_WORDS:
        ALIASES[f"{_stop}:{_unit}"] = tuple(f"{n}_{_unit}" for n in _names)
for _n in LEGS:
    ALIASES[f"tp{_n}_share"] = (f"tp{_n}_share", f"tp{_n}_close", f"take_profit{_n}_share")

CANONICAL = {alias: name for name, aliases in ALIASES.items() for alias in aliases}
UNIT_NAMES = ("stop_loss", "take_profit", "price", *(f"tp{n}" for n in LEGS))
"""Fields whose unit may be written in the name (`sl_pips`, `price_pct`, `tp2_points`)."""

# Said by TradingView's placeholders or bots for information: read, never acted on.
INFORMATIONAL = frozenset(
    {
        "time",
        "timenow",
        "exchange",
        "interval",
        "timeframe",
        "open",
        "high",
        "low",
        "heartbeat",
        "position_size",
        "strategy_position_size",
        "message",
        "msg",
        "alert_message",
        "syminfo_currency",
        "syminfo_basecurrency",
        "description",
        "plot",
    }
)
INFORMATIONAL_TREES = frozenset({"bar", "currency", "plots", "syminfo"})

# An unknown name containing one of these is refused: a typo must not drop a stop loss.
TRADING_TOKENS = frozenset({"sl", "tp", "vol"})
TRADING_WORDS = (
    "stop",
    "take",
    "profit",
    "loss",
    "risk",
    "lot",
    "volume",
    "qty",
    "quantit",
    "price",
    "size",
    "contract",
    "ticket",
    "instance",
    "account",
    "offset",
    "trail",
    "symbol",
    "ticker",
    "action",
    "side",
    "secret",
    "passphrase",
)


def normalise(name: str) -> str:
    return re.sub(r"[\s.\-]+", "_", name.strip()).lower()


@dataclass
class Draft:
    """Fields by eaflow name → (the name as written, the raw value)."""

    values: dict[str, tuple[str, object]] = field(default_factory=dict)
    commands: list[tuple[str, str]] = field(default_factory=list)  # (name written, raw word)
    ignored: list[str] = field(default_factory=list)
    text_command: bool = False  # sl=/tp=/risk= of a text command follow the source's settings

    def put(self, name: str, written: str, value: object) -> None:
        if name == "command":
            self.commands.append((written, str(value)))
            return
        if name.partition(":")[0] in UNIT_NAMES:
            name, _, unit = name.partition(":")
            value = (value, unit or None)
        if name in self.values and self.values[name][1] != value:
            first = self.values[name][0]
            raise AlertError(written, f"gives {name} a second, different value (see {first})")
        self.values[name] = (written, value)

    def get(self, name: str) -> tuple[str, object] | None:
        return self.values.get(name)

    def add(self, path: tuple[str, ...], value: object) -> None:
        """Place one leaf of a JSON object (or a KEY=VALUE pair) by its path."""
        parts = tuple(normalise(p) for p in path)
        written = ".".join(path)
        if parts[0] in INFORMATIONAL_TREES:
            return
        for start in range(len(parts)):
            joined = "_".join(parts[start:])
            if joined in CANONICAL:
                name = CANONICAL[joined]
                if name == "order_id" and len(parts) > 1:
                    name = "order_name"  # strategy.order.id: TradingView's order name
                self.put(name, written, value)
                return
            if joined in INFORMATIONAL:
                return
        leaf = "_".join(parts)
        if "offset" in leaf:
            raise AlertError(
                written,
                "price offsets are not supported: give sl/tp as a price, "
                "or with the unit in the name (sl_pips, sl_points, sl_percent)",
            )
        tokens = set(leaf.split("_"))
        if tokens & TRADING_TOKENS or any(w in leaf for w in TRADING_WORDS):
            raise AlertError(
                written,
                "unknown field: it looks like a trading parameter, so it "
                "is refused rather than ignored (see docs/alerts.md for the names)",
            )
        self.ignored.append(written)
