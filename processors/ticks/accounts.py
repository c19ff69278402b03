"""`TickAccount`: what one account does on each tick — server-side fills, SL/TP, trailing.

On the simulator the account's trade server runs here: `SimTerminal.on_tick` triggers pending
orders and SL/TP exactly on the tick that crosses them. On a real terminal the broker's
server does that and only trailing runs (`on_tick=None`). Trailing goes through the
terminal's own API (positions_get, order_send with TRADE_ACTION_SLTP) either way.
Calls block (terminal IPC, or the simulator's Redis), so `apply` runs on a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import structlog

from brokers.mt5 import constants as mt5
from brokers.mt5.api import MT5Api
from brokers.mt5.records import TradeDeal, TradePosition
from brokers.mt5.retcodes import retcode
from model import Action, OrderStatus, Result, TradingConfig
from model.money import dec
from model.tick import Tick
from processors.trailing import SlMove, Trailer, sl_result

log = structlog.get_logger(__name__)

OnTick = Callable[[str, Tick], list[TradeDeal]]
"""`SimTerminal.on_tick`: apply one tick to the account, return the deals it caused."""

REASONS = {mt5.DEAL_REASON_SL: "sl", mt5.DEAL_REASON_TP: "tp", mt5.DEAL_REASON_SO: "stop_out"}
"""The `source` of a tick-made deal's result (a pending order's fill is "pending")."""


def deal_result(instance: str, deal: TradeDeal) -> Result:
    """The `rtrs` result of a deal a tick caused: a pending order filled, or a position
    closed at its SL or TP. Keyed by the deal ticket, so a replayed tick repeats it."""
    closing = deal.entry in (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_OUT_BY)
    reason = REASONS.get(deal.reason, "pending")
    code = mt5.TRADE_RETCODE_DONE
    return Result(
        result_id=f"deal:{instance}:{deal.ticket}",
        order_id=f"ticket:{instance}:{deal.order}",
        signal_id=reason,
        instance=instance,
        action=Action.CLOSE if closing else Action.OPEN,
        symbol=deal.symbol,
        status=OrderStatus.CLOSED if closing else OrderStatus.FILLED,
        retcode=code,
        retcode_name=retcode(code).name,
        order_ticket=deal.order,
        deal_ticket=deal.ticket,
        position_ticket=deal.position_id,
        price=dec(deal.price),
        volume=dec(deal.volume),
        source=reason,
    )


class Holdings(NamedTuple):
    """What an account holds, from one read of its positions and pending orders."""

    symbols: set[str]  # the tick streams of their symbols: these must be buffered
    comments: set[str]  # their comments: alerts' trailing stops are kept while one has theirs


class TickAccount:
    """One instance's account as the ticks agent drives it."""

    def __init__(
        self,
        instance: str,
        module: MT5Api,
        config: TradingConfig,
        magic: int | None = None,
        on_tick: OnTick | None = None,
        streams: Mapping[str, str] | None = None,
    ) -> None:
        """`streams`: the broker's symbol names quoted by another symbol's ticks (a
        `sim://?suffix=.m` account's EURUSD.m by ticks:EURUSD), with that symbol."""
        self.instance = instance
        self.streams = dict(streams or {})
        self.names = {stream: name for name, stream in self.streams.items()}
        self.module = module
        self.on_tick = on_tick
        self.trailer = Trailer(module, config, magic)

    def holdings(self) -> Holdings:
        """The open positions and pending orders: their symbols' streams and their comments
        (one positions_get and one orders_get serve the agent's whole refresh)."""
        positions = self.module.positions_get() or ()
        orders = self.module.orders_get() or ()
        symbols = {p.symbol for p in positions} | {o.symbol for o in orders}
        comments = {p.comment for p in positions} | {o.comment for o in orders}
        return Holdings({self.streams.get(s, s) for s in symbols}, comments)

    def apply(self, symbol: str, ticks: Sequence[Tick]) -> list[Result]:
        """Run `ticks` (in time order) through the account; the results they caused.

        Positions and orders are read once per batch: an account holding nothing costs two
        reads, whatever the number of ticks. On the simulator an account holding positions
        anywhere sees every tick (its server values them: a tick of a conversion symbol moves
        the equity too, and may stop it out), at one look per tick when nothing is at stake.
        `symbol` is the tick stream's; the account trades it under its broker's name.
        """
        symbol = self.names.get(symbol, symbol)
        held = self.module.positions_get() or ()
        positions = tuple(p for p in held if p.symbol == symbol)
        orders = (self.module.orders_get(symbol=symbol) or ()) if self.on_tick else ()
        if not positions and not orders and not (self.on_tick and held):
            return []
        results: list[Result] = []
        refused: set[int] = set()
        for tick in ticks:
            if self.on_tick is not None:
                deals = self.on_tick(symbol, tick)
                if deals:
                    results += [deal_result(self.instance, d) for d in deals]
                    positions = self.module.positions_get(symbol=symbol) or ()
            for move in self.trailer.moves(positions, tick):
                if move.ticket in refused:
                    continue
                if self._move(move):
                    results.append(sl_result(self.instance, move))
                    positions = _with_sl(positions, move)
                else:
                    refused.add(move.ticket)
        return results

    def _move(self, move: SlMove) -> bool:
        sent = self.trailer.send(move)
        if sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE:
            return True
        code, text = (sent.retcode, sent.comment) if sent else self.module.last_error()
        log.warning(
            "ticks.sl_move_refused",
            instance=self.instance,
            position=move.ticket,
            sl=move.sl,
            retcode=code,
            error=text,
        )
        return False


def _with_sl(positions: Sequence[TradePosition], move: SlMove) -> tuple[TradePosition, ...]:
    return tuple(p._replace(sl=move.sl) if p.ticket == move.ticket else p for p in positions)
