"""`Book`: one simulated account in memory — balance, positions, pending orders — and its changes.

A trade is computed on a Book loaded from Redis, then the Book's recorded changes are written
back in one atomic transaction (`store.commit`). The Book also values the account at the
latest ticks: floating profit, margin, equity, free margin and margin level, as MT5 reports them.

Margin is per symbol. On a hedging account opposite positions cover each other (MT5's hedged
margin): the uncovered volume of the larger side is charged by the symbol's formula, and the
covered volume (the smaller side) by `margin_hedged`: as the contract size in that formula, at
the average of both sides' prices, when the symbol has no `margin_initial`; as money per lot
when it has one (USDJPY's 0: a covered pair costs nothing); or, with `margin_hedged_use_leg`,
the symbol costs the larger of its two sides' margins.
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
    """The account's own fields, as kept in its Redis hash.

    `margin_so_mode` (ACCOUNT_STOPOUT_MODE_PERCENT or _MONEY) says whether the margin call
    and stop-out levels are margin levels in percent or equity in money; `rollover` is the
    last rollover (epoch seconds) whose swaps were charged (0: none yet).
    """

    login: int
    name: str
    currency: str
    leverage: int
    hedging: bool
    balance: float
    connected: bool = True
    version: int = 0
    margin_so_mode: int = mt5.ACCOUNT_STOPOUT_MODE_PERCENT
    margin_so_call: float = 50.0
    margin_so_so: float = 30.0
    rollover: int = 0


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
    account_changed: set[str] = field(default_factory=set)  # other fields of the hash
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
        """Book a deal; its profit, swap, commission and fee (already in account money) go to
        the balance."""
        self.deals.append(deal)
        amount = deal.profit + deal.swap + deal.commission + deal.fee
        if amount:
            self.account.balance = money.money(self.account.balance + amount)
            self.balance_changed = True

    def set_rollover(self, rollover: int) -> None:
        self.account.rollover = rollover
        self.account_changed.add("rollover")

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
            account_changed=set(self.account_changed),
        )

    def settle(self) -> None:
        """The changes so far are being written: start recording anew."""
        for changes in (
            self.saved_positions,
            self.dropped_positions,
            self.saved_orders,
            self.dropped_orders,
            self.touched,
            self.account_changed,
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
            or self.account_changed
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
        close = close_price(position_type, tick, info.digits)
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
        tick = self.ticks.get(symbol)
        price = price_open if tick is None else (tick.ask if buy else tick.bid)
        return self._margin_at(symbol, volume, price)

    def _margin_at(self, symbol: str, volume: float, price: float, hedged: bool = False) -> float:
        info = self.symbols.get(symbol)
        if info is None:
            raise money.PricingError(f"symbol {symbol!r} is unknown")
        if not hedged:
            raw = money.margin(info, volume, price, self.account.leverage)
        elif info.margin_initial > 0:  # margin_hedged is money per covered lot
            raw = volume * info.margin_hedged
        else:  # margin_hedged is the contract size of the covered volume
            raw = money.margin(info, volume, price, self.account.leverage, info.margin_hedged)
        return self.to_account(raw, info.currency_margin, cost=True, trade=(symbol, price))

    def symbol_margin(self, symbol: str, add: tuple[bool, float, float] | None = None) -> float:
        """Margin in account money of the positions on `symbol` (and of a deal `add` =
        (buy, lots, price) as it would leave them), by the hedging or netting rules.

        PricingError when the symbol's calc mode or the currency conversion is not available.
        """
        sides = _Sides()
        for p in self.positions.values():
            if p.symbol == symbol:
                sides.add(p.type == mt5.POSITION_TYPE_BUY, p.volume, p.price_open)
        if add is not None:
            sides.add(*add)
        return self._sides_margin(symbol, sides)

    def _sides_margin(self, symbol: str, sides: _Sides) -> float:
        buys, sells = round(sides.buys, 8), round(sides.sells, 8)
        if not self.account.hedging:  # one position: the net of the two
            buys, sells = max(buys - sells, 0.0), max(sells - buys, 0.0)
        tick = self.ticks.get(symbol)
        if tick is not None:
            buy_price, sell_price = tick.ask, tick.bid
        else:  # before any tick: where the positions opened
            buy_price = sides.buy_cost / sides.buys if sides.buys else 0.0
            sell_price = sides.sell_cost / sides.sells if sides.sells else 0.0
        info = self.symbols.get(symbol)
        if info is not None and info.margin_hedged_use_leg and buys and sells:
            return max(
                self._margin_at(symbol, buys, buy_price), self._margin_at(symbol, sells, sell_price)
            )
        covered, uncovered = min(buys, sells), round(abs(buys - sells), 8)
        used = 0.0
        if uncovered:
            price = buy_price if buys >= sells else sell_price
            used += self._margin_at(symbol, uncovered, price)
        if covered:
            middle = (buy_price + sell_price) / 2
            used += self._margin_at(symbol, covered, middle, hedged=True)
        return used

    def summary(self) -> Summary:
        """Balance, floating profit, margin, equity, free margin and margin level (%).

        Profit is summed position by position (swaps included), each rounded to cents as MT5
        shows it; margin is summed symbol by symbol (`symbol_margin`).
        """
        profit, used = 0.0, 0.0
        held: dict[str, _Sides] = {}
        for p in self.positions.values():
            quote = self._quote(p.symbol, p.type)
            profit += (p.profit if quote is None else self._profit(p, quote)) + p.swap
            sides = held.get(p.symbol)
            if sides is None:
                sides = held[p.symbol] = _Sides()
            sides.add(p.type == mt5.POSITION_TYPE_BUY, p.volume, p.price_open)
        for symbol, sides in held.items():
            try:
                used += self._sides_margin(symbol, sides)
            except money.PricingError:
                continue
        profit, used = money.money(profit), money.money(used)
        equity = money.money(self.account.balance + profit)
        level = equity / used * 100 if used > 0 else 0.0
        free = money.money(equity - used)
        return Summary(self.account.balance, profit, used, equity, free, level)


class _Sides:
    """Lots held on each side of one symbol, and what they cost at their open prices."""

    __slots__ = ("buy_cost", "buys", "sell_cost", "sells")

    def __init__(self) -> None:
        self.buys = self.sells = self.buy_cost = self.sell_cost = 0.0

    def add(self, buy: bool, lots: float, price: float) -> None:
        if buy:
            self.buys += lots
            self.buy_cost += lots * price
        else:
            self.sells += lots
            self.sell_cost += lots * price
