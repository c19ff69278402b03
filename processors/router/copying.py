"""One alert copied to many accounts: each account's symbol name, direction and lot size.

Brokers name one instrument differently (`EURUSD`, `EURUSD.m`, `EURUSDpro`, `GOLD` for
`XAUUSD`), so the router maps the signal's symbol to each instance's own name: the
instance's explicit `symbol_map`, else its `symbol_prefix`/`symbol_suffix`, else the name
itself, else the one name in the broker's symbol list (`symbols_get`, published by its
executor) that is the signal's symbol with a short prefix or suffix. A name that maps to
nothing, or to several, is refused for that instance only, naming the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from brokers.mt5.records import SymbolInfo
from model import OrderType, Side, Signal, SizingMode, TradingConfig
from processors.rules import Refusal, check_volume, floor_volume

MAX_AFFIX = 4
"""Characters a broker may add around a symbol's name for it to be found without a map
(`.m`, `pro`, `-ecn`, `#`)."""

REVERSED = {
    OrderType.BUY: OrderType.SELL,
    OrderType.SELL: OrderType.BUY,
    # a limit waits for a pull-back, its reverse trades the same price level as a breakout
    OrderType.BUY_LIMIT: OrderType.SELL_STOP,
    OrderType.SELL_LIMIT: OrderType.BUY_STOP,
    OrderType.BUY_STOP: OrderType.SELL_LIMIT,
    OrderType.SELL_STOP: OrderType.BUY_LIMIT,
}


def broker_symbol(symbol: str, config: TradingConfig, known: Mapping[str, SymbolInfo]) -> str:
    """The instance's name of `symbol`, or a Refusal naming the rule that found none."""
    if symbol in config.symbol_map:
        name = config.symbol_map[symbol]
        if name not in known:
            raise Refusal("symbol", f"symbol_map.{symbol} is {name}, which the broker lacks")
        return name
    if config.symbol_prefix or config.symbol_suffix:
        name = f"{config.symbol_prefix}{symbol}{config.symbol_suffix}"
        if name not in known:
            raise Refusal(
                "symbol", f"{symbol} with symbol_prefix/symbol_suffix is {name}, "
                "which the broker lacks",
            )  # fmt: skip
        return name
    if symbol in known:
        return symbol
    found = sorted(n for n in known if _variant(n, symbol))
    if len(found) == 1:
        return found[0]
    if found:
        raise Refusal(
            "symbol", f"{symbol} may be any of {', '.join(found)}: set symbol_map.{symbol}"
        )
    raise Refusal("symbol", f"{symbol} is not traded by this instance's broker (no symbol_map)")


def maps(symbol: str, config: TradingConfig, known: Mapping[str, SymbolInfo]) -> bool:
    """Whether `symbol` has a name on this instance (a broadcast goes only where it has)."""
    try:
        broker_symbol(symbol, config, known)
    except Refusal:
        return False
    return True


def symbol_names(config: TradingConfig, known: Mapping[str, SymbolInfo]) -> dict[str, str]:
    """The broker's name (or the refusal) of every symbol the configuration names, as
    `eaflow instance check` shows them: e.g. ``{"XAUUSD": "GOLD", "EURUSD": "EURUSD.m"}``."""
    names = dict.fromkeys([*config.symbol_map, *config.allowed_symbols, *config.symbols])
    shown = {}
    for symbol in names:
        try:
            shown[symbol] = broker_symbol(symbol, config, known)
        except Refusal as refusal:
            shown[symbol] = f"refused: {refusal.rule}"
    return shown


def signal_symbol(info: SymbolInfo, config: TradingConfig) -> str | None:
    """The signal's name of a broker's symbol, as `broker_symbol` maps it back: its
    `symbol_map` entry, else the name without `symbol_prefix`/`symbol_suffix`, else the pair
    of its currencies when the name is a variant of it (EURUSD.m: EURUSD); None when it has
    no other name."""
    name = info.name
    for symbol, mapped in config.symbol_map.items():
        if mapped == name:
            return symbol
    prefix, suffix = config.symbol_prefix, config.symbol_suffix
    if (prefix or suffix) and name.startswith(prefix) and name.endswith(suffix):
        return name[len(prefix) : len(name) - len(suffix)] or None
    pair = f"{info.currency_base}{info.currency_profit}"
    return pair if _variant(name, pair) else None


def _variant(name: str, symbol: str) -> bool:
    extra = len(name) - len(symbol)
    return 0 < extra <= MAX_AFFIX and (name.startswith(symbol) or name.endswith(symbol))


def reversed_signal(signal: Signal) -> Signal:
    """The signal for an account that copies in reverse: buy↔sell, stop loss↔take profit
    (a sell's stop is where the buy took profit), long↔short for exits. A ladder of take
    profits has no single stop to swap with, so it is refused rather than copied unguarded."""
    if signal.take_profits:
        raise Refusal("reverse", "a ladder of take profits cannot be copied in reverse")
    update: dict[str, object] = {
        "stop_loss": signal.take_profit,
        "take_profit": signal.stop_loss,
    }
    if signal.order_type is not None:
        if signal.order_type not in REVERSED:
            raise Refusal("reverse", f"a {signal.order_type} order has no reverse to copy")
        update["order_type"] = REVERSED[signal.order_type]
    if signal.side is not None:
        update["side"] = Side.SHORT if signal.side is Side.LONG else Side.LONG
    return signal.model_copy(update=update)


def sized(
    signal: Signal, config: TradingConfig, info: SymbolInfo, size: Callable[[], Decimal]
) -> tuple[Decimal, str]:
    """Lots for this account and the rule that gave them (written into the result):
    `fixed_lot` overrides every other sizing; else the signal's or the configuration's
    sizing (`size`), times `lot_multiplier`, floored onto the volume step."""
    if config.fixed_lot is not None:
        return check_volume(config.fixed_lot, info, "fixed_lot"), f"fixed_lot {config.fixed_lot}"
    volume = size()
    mode = signal.sizing or (SizingMode.FIXED if signal.volume else config.sizing)
    if mode is not SizingMode.FIXED:
        rule = f"{mode} {signal.risk or config.risk_per_trade}: {volume}"
    else:
        rule = f"volume {volume}" if signal.volume else f"lot_size {volume}"
    multiplier = config.lot_multiplier
    if multiplier == 1:
        return volume, rule
    multiplied = check_volume(floor_volume(volume * multiplier, info), info, "lot_multiplier")
    return multiplied, f"{rule} × lot_multiplier {multiplier} = {multiplied}"
