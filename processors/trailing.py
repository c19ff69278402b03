"""Trailing stops and break-even: move a position's SL with the market, never against it.

Rules, all distances in points of the symbol (`TradingConfig.trailing_stop`, or the alert's
own for the position it opened: `Trailer.alerts`):
- `enabled` switches both off or on; trailing needs `distance > 0`, break-even
  `breakeven_trigger > 0`.
- Trailing: once the profit reaches `activation` points (0: the trailing distance itself, as
  MT5's own trailing stop does), the SL follows the close price (bid for a buy, ask for a
  sell) at `distance` points, moving only when it gains at least `step` points (at least 1).
- Break-even: once the profit reaches `breakeven_trigger` points, the SL goes to the entry
  price plus `breakeven_offset` points in the position's favour.
- A new SL must be at least `trade_stops_level` points (and more than 0) from the close
  price and no SL/TP may sit within `trade_freeze_level`, or MT5 refuses the change: such a
  move waits for a later tick.
The moves are sent as TRADE_ACTION_SLTP requests through any MetaTrader5-shaped module, so
the same code trails on the simulator and on a real terminal.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import NamedTuple

from brokers.mt5 import constants as mt5
from brokers.mt5.api import MT5Api
from brokers.mt5.records import OrderSendResult, SymbolInfo, TradePosition
from brokers.mt5.retcodes import retcode
from model import Action, OrderStatus, Result, TradingConfig, TrailingStop
from model.tick import Tick


class SlMove(NamedTuple):
    """A new SL for one position, decided on one tick."""

    ticket: int
    symbol: str
    previous: float
    sl: float
    tp: float
    reason: str  # "trailing" or "breakeven"
    time_msc: int


def _points(info: SymbolInfo, distance: float) -> int:
    return round(distance / info.point)


def _on_grid(info: SymbolInfo, price: float) -> float:
    size = info.trade_tick_size or info.point
    return round(round(price / size) * size, info.digits)


def next_sl(
    position: TradePosition, tick: Tick, info: SymbolInfo, config: TrailingStop
) -> SlMove | None:
    """The SL this tick moves the position to, or None when it stays where it is."""
    if not config.enabled:
        return None
    buy = position.type == mt5.POSITION_TYPE_BUY
    price = tick.bid if buy else tick.ask
    sign = 1 if buy else -1
    profit = _points(info, (price - position.price_open) * sign)
    candidates: list[tuple[float, str]] = []
    if config.breakeven_trigger and profit >= config.breakeven_trigger:
        level = position.price_open + sign * config.breakeven_offset * info.point
        candidates.append((_on_grid(info, level), "breakeven"))
    if config.distance and profit >= (config.activation or config.distance):
        candidates.append((_on_grid(info, price - sign * config.distance * info.point), "trailing"))
    if not candidates:
        return None
    sl, reason = max(candidates, key=lambda c: c[0] * sign)
    if position.sl > 0 and _points(info, (sl - position.sl) * sign) < max(config.step, 1):
        return None
    if _points(info, (price - sl) * sign) < max(info.trade_stops_level, 1):
        return None
    if info.trade_freeze_level > 0 and any(
        level > 0 and _points(info, abs(price - level)) <= info.trade_freeze_level
        for level in (position.sl, position.tp)
    ):
        return None
    return SlMove(
        position.ticket, position.symbol, position.sl, sl, position.tp, reason, tick.time_msc
    )


class Trailer:
    """Trails the positions of one account (only those with `magic`, when given), each
    symbol by its own `trailing_stop` (`TradingConfig.for_symbol`), and a position whose
    alert gave it a trailing stop by that one (`alerts`, by the position's comment)."""

    def __init__(self, module: MT5Api, config: TradingConfig, magic: int | None = None) -> None:
        self.module = module
        self.magic = magic
        self.alerts: dict[str, TrailingStop] = {}
        self.configure(config)

    def configure(self, config: TradingConfig) -> None:
        """Apply a new configuration (published without a restart)."""
        self.config = config
        self._trailing: dict[str, TrailingStop] = {}
        self._symbols: dict[str, SymbolInfo | None] = {}

    def trailing(self, symbol: str) -> TrailingStop:
        if symbol not in self._trailing:
            self._trailing[symbol] = self.config.for_symbol(symbol).trailing_stop
        return self._trailing[symbol]

    def info(self, symbol: str) -> SymbolInfo | None:
        if symbol not in self._symbols:
            self._symbols[symbol] = self.module.symbol_info(symbol)
        return self._symbols[symbol]

    def moves(self, positions: Iterable[TradePosition], tick: Tick) -> list[SlMove]:
        """The SL moves this tick asks for, among positions of the tick's symbol."""
        found = []
        for position in positions:
            if self.magic is not None and position.magic != self.magic:
                continue
            config = self.alerts.get(position.comment) or self.trailing(position.symbol)
            if not config.enabled:
                continue
            info = self.info(position.symbol)
            move = None if info is None else next_sl(position, tick, info, config)
            if move is not None:
                found.append(move)
        return found

    def send(self, move: SlMove) -> OrderSendResult | None:
        """Ask the broker to move the SL (TRADE_ACTION_SLTP, TP unchanged)."""
        return self.module.order_send(
            {
                "action": mt5.TRADE_ACTION_SLTP,
                "symbol": move.symbol,
                "position": move.ticket,
                "sl": move.sl,
                "tp": move.tp,
                "magic": self.magic or 0,
            }
        )


def sl_result(instance: str, move: SlMove) -> Result:
    """The `rtrs` result of an SL move the broker accepted. Its id depends only on the
    position and the new SL, so a move replayed after a crash is the same result and sinks
    keep it once."""
    key = f"{instance}:{move.ticket}"
    code = mt5.TRADE_RETCODE_DONE
    return Result(
        result_id=f"sl:{key}:{move.sl!r}",
        order_id=f"sl:{key}",
        signal_id=move.reason,
        instance=instance,
        action=Action.SLTP,
        symbol=move.symbol,
        status=OrderStatus.MODIFIED,
        retcode=code,
        retcode_name=retcode(code).name,
        position_ticket=move.ticket,
        price=Decimal(repr(move.sl)),
        source=move.reason,
    )
