"""Alert command words (PineConnector's vocabulary and common bot words) as signal steps."""

from __future__ import annotations

from typing import Any

from eaflow.gateway.alerts.values import AlertError
from model import Action, OrderType, Side

Step = dict[str, Any]

ENTRIES: dict[str, OrderType] = {
    "buy": OrderType.BUY,
    "long": OrderType.BUY,
    "bull": OrderType.BUY,
    "bullish": OrderType.BUY,
    "sell": OrderType.SELL,
    "short": OrderType.SELL,
    "bear": OrderType.SELL,
    "bearish": OrderType.SELL,
    "buylimit": OrderType.BUY_LIMIT,
    "buystop": OrderType.BUY_STOP,
    "buystoplimit": OrderType.BUY_STOP_LIMIT,
    "selllimit": OrderType.SELL_LIMIT,
    "sellstop": OrderType.SELL_STOP,
    "sellstoplimit": OrderType.SELL_STOP_LIMIT,
}

EXITS: dict[str, Step] = {
    "closelong": {"action": Action.CLOSE, "side": Side.LONG},
    "closeshort": {"action": Action.CLOSE, "side": Side.SHORT},
    "closelongshort": {"action": Action.CLOSE},
    "close": {"action": Action.CLOSE},
    "exit": {"action": Action.CLOSE},
    "closeall": {"action": Action.CLOSE_ALL},
    "cancellong": {"action": Action.CANCEL, "side": Side.LONG},
    "cancelshort": {"action": Action.CANCEL, "side": Side.SHORT},
    "cancel": {"action": Action.CANCEL},
    "newsltplong": {"action": Action.SLTP, "side": Side.LONG},
    "newsltpshort": {"action": Action.SLTP, "side": Side.SHORT},
    "newsltp": {"action": Action.SLTP},
    "eaoff": {"action": Action.HALT},
    "eaon": {"action": Action.RESUME},
}

# close<side><entry>: close that side first, then enter (a reversal or a fresh entry).
REVERSALS: dict[str, tuple[Step, Step]] = {
    f"close{side}{entry}": (
        {"action": Action.CLOSE, "side": Side(side), "volume": None},  # the whole side
        {"action": Action.OPEN, "order_type": ENTRIES[entry]},
    )
    for side in ("long", "short")
    for entry in ("buy", "sell")
}

# closealleaoff: close everything, then switch the targeted instances off (PineConnector).
SEQUENCES: dict[str, tuple[Step, ...]] = {
    "closealleaoff": ({"action": Action.CLOSE_ALL}, {"action": Action.HALT}),
}
REVERSALS_AND_SEQUENCES: dict[str, tuple[Step, ...]] = {**REVERSALS, **SEQUENCES}

NO_SYMBOL = frozenset({"eaoff", "eaon"})
NEEDS_SYMBOL = frozenset({*ENTRIES, "newsltplong", "newsltpshort", "newsltp"})
KNOWN = (*ENTRIES, *EXITS, *REVERSALS_AND_SEQUENCES)


def is_command(word: str) -> bool:
    return word in ENTRIES or word in EXITS or word in REVERSALS_AND_SEQUENCES


def steps(field: str, word: str) -> tuple[Step, ...]:
    """The signals a command word asks for, in order: one, or two for `close…buy/sell` and
    `closealleaoff`."""
    if word in ENTRIES:
        return ({"action": Action.OPEN, "order_type": ENTRIES[word]},)
    if word in EXITS:
        return (dict(EXITS[word]),)
    if word in REVERSALS_AND_SEQUENCES:
        return tuple(dict(step) for step in REVERSALS_AND_SEQUENCES[word])
    raise AlertError(field, f"unknown command '{word}' (known: {', '.join(KNOWN)})")


def direction(word: str) -> Side | None:
    """The side an entry word opens (`buy` → long), None for anything else."""
    entry = ENTRIES.get(word)
    if entry is None:
        return None
    return Side.LONG if entry.is_buy else Side.SHORT


ORDER_KINDS: dict[str, str] = {
    "market": "",
    "limit": "_limit",
    "stop": "_stop",
    "stoplimit": "_stop_limit",
}


def with_kind(order_type: OrderType, field: str, kind: str) -> OrderType:
    """`buy` with kind `limit` → `buy_limit`; a full type such as `sell_stop` is taken as is."""
    if kind in ORDER_KINDS:
        return OrderType(("buy" if order_type.is_buy else "sell") + ORDER_KINDS[kind])
    full = {t.value.replace("_", ""): t for t in OrderType}
    if kind in full:
        if full[kind].is_buy != order_type.is_buy:
            raise AlertError(field, f"'{kind}' contradicts the side of '{order_type}'")
        return full[kind]
    raise AlertError(field, f"unknown order type '{kind}' (known: market, limit, stop, stoplimit)")
