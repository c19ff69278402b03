"""An account's equity now: its snapshot's balance plus its positions at the newest quotes.

A state snapshot is up to 500 ms old and its profits are the broker's as of then; a loss
limit must see a loss from the tick that made it. Each position is revalued at the newest
quote (a buy closes at the bid, a sell at the ask) and converted into the account
currency as MT5 books a loss (`sizing.live_loss`: the loss side's rate, through the traded
symbol at the closing price); a position without a quote or conversion counts with the
snapshot's profit. Quotes and conversion tables are the router's `Accounts`' (one table per
instance and publication; a broker's name without a stream of its own, EURUSD.m, is
quoted by its signal's symbol) so a loss limit sees the prices that size its orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo
from model import TradingConfig
from model.money import dec
from processors.router.accounts import Accounts
from processors.router.sizing import live_loss


async def live_equity(
    state: dict[str, Any],
    instance: str,
    config: TradingConfig,
    symbols: Mapping[str, Mapping[str, SymbolInfo]],
    accounts: Accounts,
) -> Decimal:
    """Balance plus each position valued at its newest quote as MT5 books it; a position
    without a quote or a conversion counts with the snapshot's profit."""
    equity = dec(float(state["balance"]))
    infos = symbols.get(instance, {})
    table = accounts.table(instance, symbols)
    currency = str(state["currency"])
    for position in state["positions"]:
        info = infos.get(position["symbol"])
        profit = dec(float(position["profit"]))
        if info is None:
            equity += profit
            continue
        quotes = await accounts.quotes(instance, config, info, currency, symbols)
        tick = quotes.get(info.name)
        if tick is None:
            equity += profit
            continue
        is_buy = position["type"] == mt5.POSITION_TYPE_BUY
        opened, close = dec(float(position["price_open"])), dec(tick.bid if is_buy else tick.ask)
        per_lot = live_loss(info, currency, table, quotes)(opened, close)
        if per_lot is None:
            equity += profit
            continue
        against = close < opened if is_buy else close > opened
        equity += (-per_lot if against else per_lot) * dec(float(position["volume"]))
    return equity
