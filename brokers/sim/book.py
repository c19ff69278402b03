"""`Book`: one simulated account in memory — balance, positions, pending orders — and its changes.

A trade is computed on a Book loaded from Redis, then the Book's recorded changes are written
back in one atomic transaction (`store.commit`). The Book also values the account at the
latest ticks: floating profit, margin, equity, free margin and margin level, as MT5 reports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo, TradeDeal, TradeOrder, TradePosition
from brokers.sim import margin as money
from brokers.sim.matching import close_price
from brokers.sim.symbols import SymbolTable
from model.tick import Tick


@dataclass
class Account:
    """The account's own fields, as kept in its Redis hash."""

    login: int
    name: str
    currency: str
    leverage: int
    hedging: bool
    balance: float
    connected: bool = True
    version: int = 0


class Summary(NamedTuple):
    """Money of the account at the latest ticks, in its currency."""

    balance: float
    profit: float
    margin: float
    equity: float
    margin_free: float
    margin_level: float


class Quote(NamedTuple):
    """Where one side of a symbol closes now, and its profit currency's conversion rates."""

    info: SymbolInfo
    close: float
    gain: float
    loss: float


@dataclass
class Book:
    """Account, positions and pending orders, plus what changed since loading."""

    account: Account
    positions: dict[int, TradePosition]
    orders: dict[int, TradeOrder]
    symbols: SymbolTable
    ticks: dict[str, Tick]
    next_ticket: Callable[[], int]
    market_open: bool = True
    saved_positions: set[int] = field(default_factory=set)
    dropped_positions: set[int] = field(default_factory=set)
    saved_orders: set[int] = field(default_factory=set)
    dropped_orders: set[int] = field(default_factory=set)
    deals: list[TradeDeal] = field(default_factory=list)
    history: list[TradeOrder] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    balance_changed: bool = False
    _quotes: dict[tuple[str, int], tuple[Tick, Quote]] = field(default_factory=dict, repr=False)

    def put_position(self, position: TradePosition) -> None:
        self.positions[position.ticket] = position
        self.saved_positions.add(position.ticket)
        self.dropped_positions.discard(position.ticket)
        self.touched.add(position.symbol)

    def drop_position(self, ticket: int) -> None:
        position = self.positions.pop(ticket)
        self.saved_positions.discard(ticket)
        self.dropped_positions.add(ticket)
        self.touched.add(position.symbol)

    def put_order(self, order: TradeOrder) -> None:
        self.orders[order.ticket] = order
        self.saved_orders.add(order.ticket)
        self.dropped_orders.discard(order.ticket)
        self.touched.add(order.symbol)

    def drop_order(self, ticket: int) -> None:
        order = self.orders.pop(ticket)
        self.saved_orders.discard(ticket)
        self.dropped_orders.add(ticket)
        self.touched.add(order.symbol)

    def add_deal(self, deal: TradeDeal) -> None:
        """Book a deal; its profit (already in account money) goes to the balance."""
        self.deals.append(deal)
        if deal.profit:
            self.account.balance = money.money(self.account.balance + deal.profit)
            self.balance_changed = True

    def add_history(self, order: TradeOrder) -> None:
        self.history.append(order)

    @property
    def currency(self) -> str:
        return self.account.currency

    def fork(self) -> Book:
        """A copy to try a trade on, changes so far included: an account held in memory
        adopts it only when the trade is done, so a refused one leaves no trace."""
        return replace(
            self,
            account=replace(self.account),
            positions=dict(self.positions),
            orders=dict(self.orders),
            saved_positions=set(self.saved_positions),
            dropped_positions=set(self.dropped_positions),
            saved_orders=set(self.saved_orders),
            dropped_orders=set(self.dropped_orders),
            deals=list(self.deals),
            history=list(self.history),
            touched=set(self.touched),
        )

    def settle(self) -> None:
        """The changes so far are being written: start recording anew."""
        for changes in (
            self.saved_positions,
            self.dropped_positions,
            self.saved_orders,
            self.dropped_orders,
            self.touched,
        ):
            changes.clear()
        self.deals, self.history = [], []
        self.balance_changed = False

    @property
    def changed(self) -> bool:
        return bool(
            self.saved_positions
            or self.dropped_positions
            or self.saved_orders
            or self.dropped_orders
            or self.deals
            or self.history
            or self.balance_changed
        )

    def of_symbol(self, symbol: str) -> Iterator[TradePosition]:
        return (p for p in self.positions.values() if p.symbol == symbol)

    def to_account(
        self,
        amount: float,
        currency: str,
        *,
        cost: bool = False,
        trade: tuple[str, float] | None = None,
    ) -> float:
        """Convert to the account currency at the latest ticks (PricingError when impossible)."""
        return money.to_account(
            amount,
            currency,
            self.account.currency,
            self.symbols,
            self.ticks,
            cost=cost,
            trade=trade,
        )

    def closing_profit(self, position: TradePosition, volume: float, price: float) -> float:
        """Profit in account money of closing `volume` of `position` at `price`."""
        info = self.symbols.get(position.symbol)
        if info is None:
            return 0.0
        buy = position.type == mt5.POSITION_TYPE_BUY
        raw = money.profit(info, buy, volume, position.price_open, price)
        return money.money(
            self.to_account(raw, info.currency_profit, trade=(position.symbol, price))
        )

    def valued(self, position: TradePosition) -> TradePosition:
        """The position with `price_current` and `profit` at the latest tick."""
        quote = self._quote(position.symbol, position.type)
        if quote is None:
            return position
        return position._replace(price_current=quote.close, profit=self._profit(position, quote))

    def _profit(self, position: TradePosition, quote: Quote) -> float:
        buy = position.type == mt5.POSITION_TYPE_BUY
        raw = money.profit(quote.info, buy, position.volume, position.price_open, quote.close)
        return money.money(raw * (quote.gain if raw >= 0 else quote.loss))

    def _quote(self, symbol: str, position_type: int) -> Quote | None:
        """Close price and conversion rates of one side of a symbol, cached per tick."""
        tick, info = self.ticks.get(symbol), self.symbols.get(symbol)
        if tick is None or info is None:
            return None
        cached = self._quotes.get((symbol, position_type))
        if cached is not None and cached[0] is tick:
            return cached[1]
        close = close_price(position_type, tick)
        try:
            trade = (symbol, close)
            gain = self.to_account(1.0, info.currency_profit, trade=trade)
            loss = -self.to_account(-1.0, info.currency_profit, trade=trade)
        except money.PricingError:
            return None
        quote = Quote(info, close, gain, loss)
        self._quotes[(symbol, position_type)] = (tick, quote)
        return quote

    def position_margin(self, position: TradePosition) -> float:
        """Margin held by a position at the latest price, in account money (0 if unpriceable)."""
        buy = position.type == mt5.POSITION_TYPE_BUY
        try:
            return self.margin_for(position.symbol, buy, position.volume, position.price_open)
        except money.PricingError:
            return 0.0

    def margin_for(self, symbol: str, buy: bool, volume: float, price_open: float) -> float:
        """Margin of `volume` lots at the latest price (`price_open` before any tick).

        PricingError when the symbol's calc mode or the currency conversion is not available.
        """
        info = self.symbols.get(symbol)
        if info is None:
            raise money.PricingError(f"symbol {symbol!r} is unknown")
        tick = self.ticks.get(symbol)
        price = price_open if tick is None else (tick.ask if buy else tick.bid)
        raw = money.margin(info, volume, price, self.account.leverage)
        return self.to_account(raw, info.currency_margin, cost=True, trade=(symbol, price))

    def summary(self) -> Summary:
        """Balance, floating profit, margin, equity, free margin and margin level (%).

        Profit is summed position by position, each rounded to cents as MT5 shows it; margin
        is linear in volume, so each side of a quoted symbol is priced once.
        """
        profit, used = 0.0, 0.0
        sides: dict[tuple[str, int], float] = {}
        for p in self.positions.values():
            quote = self._quote(p.symbol, p.type)
            profit += p.profit if quote is None else self._profit(p, quote)
            if p.symbol in self.ticks:
                sides[(p.symbol, p.type)] = sides.get((p.symbol, p.type), 0.0) + p.volume
            else:
                used += self.position_margin(p)
        for (symbol, position_type), volume in sides.items():
            buy = position_type == mt5.POSITION_TYPE_BUY
            try:
                used += self.margin_for(symbol, buy, volume, 0.0)
            except money.PricingError:
                continue
        profit, used = money.money(profit), money.money(used)
        equity = money.money(self.account.balance + profit)
        level = equity / used * 100 if used > 0 else 0.0
        free = money.money(equity - used)
        return Summary(self.account.balance, profit, used, equity, free, level)
