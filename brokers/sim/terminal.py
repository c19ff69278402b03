"""`SimTerminal`: a MetaTrader5-module look-alike whose trade server is the Redis simulator.

Use it exactly like the package::

    mt5 = SimTerminal(redis.Redis(), prefix="ea:")
    mt5.initialize(login=5_000_001, server="eaflow-sim")
    result = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                             "volume": 0.1, "type": mt5.ORDER_TYPE_BUY})

Calls are synchronous, answer MT5's record types, return None (or False) on failure with the
reason in `last_error()`, and carry every MT5 constant and record type as an attribute; their
signatures are `MT5Api`'s (`brokers/mt5/api.py`), checked by mypy since the class derives from
it. The account lives in Redis, so a new terminal (after a crash) finds it as it was; like a
real terminal, one remembers the last account it logged in to (`account=`), so `initialize()`
without a login reconnects to it. `on_tick` is the simulator's own addition: the tick worker
feeds each tick through it to fill orders, hit SL/TP, stop out and charge swaps.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import redis

from brokers.mt5 import constants
from brokers.mt5.api import Date, Mt5Module, Rates
from brokers.mt5.records import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from brokers.mt5.retcodes import retcode
from brokers.sim import history, rates, views
from brokers.sim.engine import Answer, TradeServer
from brokers.sim.margin import PricingError, margin, money, profit, tick_values, to_account
from brokers.sim.request import RequestError, parse_request
from brokers.sim.store import AccountMissing
from brokers.sim.symbols import SymbolTable, default_symbols, with_quote
from brokers.sim.ticks import tick_array
from model.keys import Keys
from model.tick import Tick, TickFormatError, entry_tick

SERVER = "eaflow-sim"
BUILD = 5000
BUILD_DATE = "15 Jan 2026"
"""`version()[2]`: the build's release date, written as the terminal writes it ('23 Mar 2020')."""
PACKAGE_VERSION = "5.0.6231"
"""The MetaTrader5 package whose functions, constants and records the simulator mirrors."""
OK = (constants.RES_S_OK, "Success")
NO_IPC = (constants.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
AUTH_FAILED = (constants.RES_E_AUTH_FAILED, "Authorization failed")
CALL_FAILED = constants.RES_E_FAIL
INVALID = constants.RES_E_INVALID_PARAMS
COPY_FLAGS = (constants.COPY_TICKS_ALL, constants.COPY_TICKS_INFO, constants.COPY_TICKS_TRADE)
QUOTE_FLAGS = constants.TICK_FLAG_BID | constants.TICK_FLAG_ASK
TRADE_FLAGS = constants.TICK_FLAG_LAST | constants.TICK_FLAG_VOLUME

P = ParamSpec("P")
R = TypeVar("R")


def _ipc(
    method: Callable[Concatenate[SimTerminal, P], R],
) -> Callable[Concatenate[SimTerminal, P], R | None]:
    """Storage trouble answers like a broken terminal link: None, and the reason in last_error."""

    def call(self: SimTerminal, /, *args: P.args, **kwargs: P.kwargs) -> R | None:
        try:
            return method(self, *args, **kwargs)
        except AccountMissing as error:
            self._error = (constants.RES_E_AUTH_FAILED, str(error))
        except redis.RedisError as error:
            self._error = (constants.RES_E_INTERNAL_FAIL_TIMEOUT, f"simulator storage: {error}")
        return None

    functools.update_wrapper(call, method)
    return call


class SimTerminal(Mt5Module):
    """One terminal session on one simulated account.

    `redis` must answer bytes (the default `decode_responses=False`); `symbols` replaces the
    bundled specs; `clock` is the server time in seconds (wall clock by default); `server`
    replaces the trade server on Redis (the executor's accounts held in memory); `account`
    is the login this terminal used last (a fresh terminal has none).
    """

    __version__ = PACKAGE_VERSION
    __author__ = "eaflow (a simulator of MetaQuotes Ltd.'s MetaTrader5 package)"

    def __init__(
        self,
        redis: redis.Redis,
        prefix: str = "ea:",
        symbols: SymbolTable | None = None,
        clock: Callable[[], float] = time.time,
        server: TradeServer | None = None,
        account: int | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.symbols = default_symbols() if symbols is None else symbols
        self.server = server or TradeServer(redis, prefix, self.symbols)
        self._clock = clock
        self._login: int | None = None
        self._last = account
        self._currency = ""
        self._error = OK
        self._request_id = 0
        self._hidden: set[str] = set()  # symbols taken out of Market Watch
        self._books: set[str] = set()  # symbols whose Depth of Market is subscribed

    # connection -------------------------------------------------------------------------
    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
        portable: bool = False,
    ) -> bool:
        """Attach to `login` (an account opened with SimServer), or without a login to the
        last account this terminal used, as MT5 does; False + (-6, ...) when there is none (a
        fresh terminal that never logged in) or the account does not exist."""
        for name, value, kind in (
            ("path", path, str),
            ("login", login, int),
            ("password", password, str),
            ("server", server, str),
            ("timeout", timeout, int),
        ):
            if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
                self._login = None
                return self._fail((INVALID, f'Invalid "{name}" argument'))
        account = self._last if login is None else login
        if account is None:
            return self._fail(AUTH_FAILED)
        return self.login(account, password=password, server=server, timeout=timeout)

    def login(
        self,
        login: int,
        *,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool:
        """Switch to another simulated account (any password; server must be eaflow-sim)."""
        currency = None
        if server in (None, SERVER):
            try:
                currency = self.redis.hget(self.server.keys(login).account, "currency")
            except redis.RedisError as error:
                self._login = None
                return self._fail(
                    (constants.RES_E_INTERNAL_FAIL_INIT, f"simulator storage: {error}")
                )
        if currency is None:
            self._login = None
            return self._fail(AUTH_FAILED)
        self._login, self._last, self._currency, self._error = (
            login,
            login,
            str(currency, "ascii") if isinstance(currency, bytes) else currency,
            OK,
        )
        return True

    def shutdown(self) -> None:
        self._login = None

    def last_error(self) -> tuple[int, str]:
        return self._error

    def version(self) -> tuple[int, int, str] | None:
        return (500, BUILD, BUILD_DATE) if self._ready() else None

    @_ipc
    def terminal_info(self) -> TerminalInfo | None:
        if not self._ready():
            return None
        up = self.redis.hget(self.server.keys(self._account).account, "connected") != b"0"
        return views.terminal_info(up, BUILD)

    # account and symbols -----------------------------------------------------------------
    @_ipc
    def account_info(self) -> AccountInfo | None:
        if not self._ready():
            return None
        book = self.server.snapshot(self._account, self._currency)
        return views.account_info(book.account, book.summary(), SERVER)

    def symbols_total(self) -> int | None:
        """The number of all symbols, those out of Market Watch included."""
        return len(list(self.symbols)) if self._ready() else None

    @_ipc
    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        if not self._ready():
            return None
        if group is not None and not isinstance(group, str):
            self._fail((INVALID, 'Invalid "group" argument'))
            return None
        return self._quoted([i for i in self.symbols if history.in_group(i.name, group)])

    @_ipc
    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        info = self.symbols.get(symbol)
        if not self._ready() or not self._known(symbol) or info is None:
            return None
        return self._quoted([info])[0]

    @_ipc
    def symbol_info_tick(self, symbol: str) -> Tick | None:
        """The latest quote; None and (-1, ...) while the symbol has had none."""
        if not self._ready() or not self._known(symbol):
            return None
        tick = self.server.quotes({symbol}).get(symbol)
        if tick is None:
            self._fail((CALL_FAILED, f"Terminal: Call failed (no quote for {symbol} yet)"))
        return tick

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        """Show `symbol` in Market Watch, or take it out (`enable=False`): refused while the
        account has positions or orders on it, as MT5 refuses it."""
        if not self._ready() or not self._known(symbol):
            return False
        if enable:
            self._hidden.discard(symbol)
            return True
        used = self._used(symbol)
        if used is None:
            return False
        if used:
            detail = f"Terminal: Call failed ({symbol} has positions or orders: {used})"
            return self._fail((CALL_FAILED, detail))
        self._hidden.add(symbol)
        self._books.discard(symbol)
        return True

    @_ipc
    def _used(self, symbol: str) -> list[int]:
        """Tickets of the account's positions and pending orders on `symbol`."""
        book = self.server.snapshot(self._account, self._currency)
        used = [p.ticket for p in book.positions.values() if p.symbol == symbol]
        return used + [o.ticket for o in book.orders.values() if o.symbol == symbol]

    def market_book_add(self, symbol: str) -> bool:
        """Subscribe to `symbol`'s Depth of Market (it joins Market Watch, as in MT5)."""
        if not self._ready() or not self._known(symbol):
            return False
        self._hidden.discard(symbol)
        self._books.add(symbol)
        return True

    @_ipc
    def market_book_get(self, symbol: str) -> tuple[BookInfo, ...] | None:
        """The simulator's Depth of Market: one sell level at the ask and one buy level at the
        bid of the latest quote, each for `volume_max` lots (it fills any volume at the quote).
        None and (-1, ...) without a `market_book_add` first or before the first quote."""
        info = self.symbols.get(symbol)
        if not self._ready() or not self._known(symbol) or info is None:
            return None
        if symbol not in self._books:
            self._fail((CALL_FAILED, f"Terminal: Call failed (market_book_add({symbol!r}) first)"))
            return None
        tick = self.server.quotes({symbol}).get(symbol)
        if tick is None:
            self._fail((CALL_FAILED, f"Terminal: Call failed (no quote for {symbol} yet)"))
            return None
        depth = info.volume_max
        return (
            BookInfo(constants.BOOK_TYPE_SELL, tick.ask, int(depth), depth),
            BookInfo(constants.BOOK_TYPE_BUY, tick.bid, int(depth), depth),
        )

    def market_book_release(self, symbol: str) -> bool:
        """End a `market_book_add` subscription; False when there was none."""
        if not self._ready() or not self._known(symbol):
            return False
        if symbol not in self._books:
            return self._fail((CALL_FAILED, f"Terminal: Call failed ({symbol}: no subscription)"))
        self._books.discard(symbol)
        return True

    # bars and ticks -------------------------------------------------------------------------
    @_ipc
    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: Date, count: int
    ) -> Rates | None:
        """Up to `count` bars opened at or before `date_from`, oldest first."""
        made = self._bars(symbol, timeframe, count=count, dates=(date_from,))
        if made is None:
            return None
        until = history.millis(date_from) // 1000
        chosen = [b for b in made if b[0] <= until]
        return rates.rates_array(chosen[-count:])

    @_ipc
    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> Rates | None:
        """`count` bars from the `start_pos`-th newest back (0: the current bar), oldest first."""
        if isinstance(start_pos, bool) or not isinstance(start_pos, int) or start_pos < 0:
            self._fail((INVALID, 'Invalid "start_pos" argument: a non-negative integer'))
            return None
        made = self._bars(symbol, timeframe, count=count)
        if made is None:
            return None
        end = len(made) - start_pos
        return rates.rates_array(made[max(end - count, 0) : max(end, 0)])

    @_ipc
    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: Date, date_to: Date
    ) -> Rates | None:
        """The bars opened from `date_from` to `date_to` (both included), oldest first."""
        made = self._bars(symbol, timeframe, dates=(date_from, date_to))
        if made is None:
            return None
        start, end = history.millis(date_from) // 1000, history.millis(date_to) // 1000
        return rates.rates_array(b for b in made if start <= b[0] <= end)

    @_ipc
    def copy_ticks_from(self, symbol: str, date_from: Date, count: int, flags: int) -> Rates | None:
        """Up to `count` ticks from `date_from` on, from what the tick stream still holds."""
        ticks = self._ticks(symbol, flags, (date_from,), count)
        if ticks is None:
            return None
        start = history.millis(date_from)
        return tick_array([t for t in ticks if t.time_msc >= start][:count])

    @_ipc
    def copy_ticks_range(
        self, symbol: str, date_from: Date, date_to: Date, flags: int
    ) -> Rates | None:
        """The ticks from `date_from` to `date_to` (both included), from what the stream holds."""
        ticks = self._ticks(symbol, flags, (date_from, date_to))
        if ticks is None:
            return None
        start, end = history.millis(date_from), history.millis(date_to, end=True)
        return tick_array(t for t in ticks if start <= t.time_msc <= end)

    @_ipc
    def order_calc_margin(
        self, action: int, symbol: str, volume: float, price: float
    ) -> float | None:
        """Margin in the account currency of `volume` lots of a buy/sell at `price`."""
        info = self._calc_symbol(action, symbol, volume=volume, price=price)
        if info is None:
            return None
        amount = margin(info, volume, price, self._leverage())
        return self._converted(amount, info.currency_margin, (symbol, price), cost=True)

    @_ipc
    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        """Profit in the account currency of a buy/sell from `price_open` to `price_close`."""
        info = self._calc_symbol(
            action, symbol, volume=volume, price_open=price_open, price_close=price_close
        )
        if info is None:
            return None
        buy = action == constants.ORDER_TYPE_BUY
        amount = profit(info, buy, volume, price_open, price_close)
        return self._converted(amount, info.currency_profit, (symbol, price_close))

    # trading ------------------------------------------------------------------------------
    @_ipc
    def order_check(self, request: Mapping[str, Any]) -> OrderCheckResult | None:
        """Would `order_send` accept this? retcode 0 ("Done") with the account after the trade."""
        req = self._request(request)
        if req is None:
            return None
        answer = self.server.check(self._account, self._currency, req, self._now_ms())
        s = answer.summary
        comment = "Done" if answer.retcode == 0 else _comment(answer)
        if s is None:
            return OrderCheckResult(answer.retcode, comment=comment, request=req)
        return OrderCheckResult(
            retcode=answer.retcode,
            balance=s.balance,
            equity=s.equity,
            profit=s.profit,
            margin=s.margin,
            margin_free=s.margin_free,
            margin_level=s.margin_level,
            comment=comment,
            request=req,
        )

    @_ipc
    def order_send(self, request: Mapping[str, Any]) -> OrderSendResult | None:
        """Send a trade request; 10009 DONE / 10008 PLACED or MT5's retcode for the mistake."""
        req = self._request(request)
        if req is None:
            return None
        self._request_id += 1
        answer = self.server.send(self._account, self._currency, req, self._now_ms())
        bid, ask = (answer.tick.bid, answer.tick.ask) if answer.tick else (0.0, 0.0)
        done = answer.execution
        if done is None:
            return OrderSendResult(
                answer.retcode,
                bid=bid,
                ask=ask,
                comment=_comment(answer),
                request_id=self._request_id,
                request=req,
            )
        return OrderSendResult(
            *done, bid, ask, retcode(done.retcode).comment, self._request_id, 0, req
        )

    def on_tick(self, symbol: str, tick: Tick) -> list[TradeDeal]:
        """Apply one tick to this account: pending fills, expiries, SL/TP; the deals made."""
        if not self._ready():
            return []
        try:
            return self.server.tick(self._account, self._currency, symbol, tick, self._now_ms())
        except (AccountMissing, redis.RedisError) as error:
            self._fail((constants.RES_E_INTERNAL_FAIL_TIMEOUT, f"tick not applied: {error}"))
            return []

    # positions, orders, history --------------------------------------------------------------
    @_ipc
    def positions_total(self) -> int | None:
        if not self._ready():
            return None
        return int(self.redis.hlen(self.server.keys(self._account).positions))

    @_ipc
    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        if not self._ready() or not self._filters(symbol=symbol, group=group, ticket=ticket):
            return None
        book = self.server.snapshot(self._account, self._currency)
        chosen = sorted(book.positions.values(), key=lambda p: p.ticket)
        return tuple(
            book.valued(p) for p in chosen if _selected(p.symbol, p.ticket, symbol, group, ticket)
        )

    @_ipc
    def orders_total(self) -> int | None:
        if not self._ready():
            return None
        return int(self.redis.hlen(self.server.keys(self._account).orders))

    @_ipc
    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        if not self._ready() or not self._filters(symbol=symbol, group=group, ticket=ticket):
            return None
        book = self.server.snapshot(self._account, self._currency)
        book.ticks.update(self.server.quotes({o.symbol for o in book.orders.values()}))
        chosen = sorted(book.orders.values(), key=lambda o: o.ticket)
        return tuple(
            views.order_now(o, book.ticks.get(o.symbol))
            for o in chosen
            if _selected(o.symbol, o.ticket, symbol, group, ticket)
        )

    @_ipc
    def history_orders_total(self, date_from: Date, date_to: Date) -> int | None:
        """The number of finished orders from `date_from` to `date_to`."""
        if not self._history_args(date_from, date_to, None, None) or not self._dates(
            date_from, date_to
        ):
            return None
        key = self.server.keys(self._account).history
        return len(history.orders(self.redis, key, date_from, date_to))

    @_ipc
    def history_orders_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        if not self._history_args(date_from, date_to, ticket, position):
            return None
        key = self.server.keys(self._account).history
        return history.orders(
            self.redis, key, date_from, date_to, group=group, ticket=ticket, position=position
        )

    @_ipc
    def history_deals_total(self, date_from: Date, date_to: Date) -> int | None:
        """The number of deals from `date_from` to `date_to` (balance operations included)."""
        if not self._history_args(date_from, date_to, None, None) or not self._dates(
            date_from, date_to
        ):
            return None
        key = self.server.keys(self._account).deals
        return len(history.deals(self.redis, key, date_from, date_to))

    @_ipc
    def history_deals_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        """Deals in the range, or those of order `ticket` (DEAL_ORDER), or of `position`."""
        if not self._history_args(date_from, date_to, ticket, position):
            return None
        key = self.server.keys(self._account).deals
        return history.deals(
            self.redis, key, date_from, date_to, group=group, ticket=ticket, position=position
        )

    # helpers ----------------------------------------------------------------------------------
    @property
    def _account(self) -> int:
        if self._login is None:
            raise AccountMissing("the terminal is not initialized")
        return self._login

    def _ready(self) -> bool:
        if self._login is None:
            self._error = NO_IPC
            return False
        self._error = OK
        return True

    def _fail(self, error: tuple[int, str]) -> bool:
        self._error = error
        return False

    def _known(self, symbol: str) -> bool:
        if symbol in self.symbols:
            return True
        return self._fail((constants.RES_E_NOT_FOUND, f"Terminal: symbol {symbol!r} not found"))

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def _stream(self, symbol: str) -> Iterator[Tick]:
        """The ticks the symbol's stream holds, oldest first (malformed entries passed over)."""
        for entry in self.redis.xrange(Keys(self.prefix).ticks(self.symbols.stream(symbol))) or []:
            try:
                tick = entry_tick([entry])
            except TickFormatError:
                continue
            if tick is not None:
                yield tick

    def _dates(self, *dates: object) -> bool:
        for name, value in zip(("date_from", "date_to"), dates, strict=False):
            if isinstance(value, bool) or not isinstance(value, datetime | int):
                return self._fail((INVALID, f'Invalid "{name}" argument: a datetime or seconds'))
        return True

    def _filters(self, **given: object) -> bool:
        """The listing filters' types, as the package checks them: symbol and group are
        strings, ticket and position integers; (-2, 'Invalid "ticket" argument') otherwise."""
        for name, value in given.items():
            kind: type | tuple[type, ...] = str if name in ("symbol", "group") else int
            if value is not None and (isinstance(value, bool) or not isinstance(value, kind)):
                return self._fail((INVALID, f'Invalid "{name}" argument'))
        return True

    def _count(self, count: object) -> bool:
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            return self._fail((INVALID, 'Invalid "count" argument: a positive integer'))
        return True

    def _ticks(
        self, symbol: str, flags: int, dates: tuple[Date, ...], count: int | None = None
    ) -> list[Tick] | None:
        """The stream's ticks of the kind `flags` asks for, once the arguments are valid."""
        if not self._ready() or not self._known(symbol):
            return None
        if isinstance(flags, bool) or flags not in COPY_FLAGS:
            detail = f'Invalid "flags" argument: {flags!r} is not a COPY_TICKS_* value'
            self._fail((INVALID, detail))
            return None
        if not self._dates(*dates) or (count is not None and not self._count(count)):
            return None
        ticks = list(self._stream(symbol))
        if flags == constants.COPY_TICKS_INFO:
            return [t for t in ticks if t.flags & QUOTE_FLAGS or not t.flags]
        if flags == constants.COPY_TICKS_TRADE:
            return [t for t in ticks if t.flags & TRADE_FLAGS and t.last > 0]
        return ticks

    def _bars(
        self,
        symbol: str,
        timeframe: int,
        *,
        count: int | None = None,
        dates: tuple[Date, ...] = (),
    ) -> list[rates.Bar] | None:
        """The bars of the stream's ticks, once the arguments are valid."""
        info = self.symbols.get(symbol)
        if not self._ready() or not self._known(symbol) or info is None:
            return None
        if isinstance(timeframe, bool) or timeframe not in rates.TIMEFRAMES:
            detail = f'Invalid "timeframe" argument: {timeframe!r} is not a TIMEFRAME_* value'
            self._fail((INVALID, detail))
            return None
        if not self._dates(*dates) or (count is not None and not self._count(count)):
            return None
        return rates.bars(info, timeframe, self._stream(symbol))

    def _leverage(self) -> int:
        return int(self.redis.hget(self.server.keys(self._account).account, "leverage") or 1)

    def _request(self, request: Mapping[str, Any]) -> TradeRequest | None:
        if not self._ready():
            return None
        try:
            return parse_request(request)
        except RequestError as error:
            self._fail((constants.RES_E_INVALID_PARAMS, str(error)))
            return None

    def _quoted(self, infos: list[SymbolInfo]) -> tuple[SymbolInfo, ...]:
        """The specs with their latest quotes and tick values (one round trip)."""
        names = {q for i in infos for q in self.symbols.quote_symbols(i.name, self._currency)}
        ticks = self.server.quotes(names)
        return tuple(
            with_quote(
                i, ticks.get(i.name), tick_values(i, self._currency, self.symbols, ticks)
            )._replace(select=i.name not in self._hidden, visible=i.name not in self._hidden)
            for i in infos
        )

    def _calc_symbol(self, action: int, symbol: str, **numbers: object) -> SymbolInfo | None:
        if not self._ready() or not self._known(symbol):
            return None
        if action not in (constants.ORDER_TYPE_BUY, constants.ORDER_TYPE_SELL):
            detail = f'Invalid "action": {action} is not ORDER_TYPE_BUY or ORDER_TYPE_SELL'
            self._fail((constants.RES_E_INVALID_PARAMS, detail))
            return None
        for name, value in numbers.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                self._fail((INVALID, f'Invalid "{name}" argument: a positive number'))
                return None
        return self.symbols.get(symbol)

    def _converted(
        self, amount: float, currency: str, trade: tuple[str, float], *, cost: bool = False
    ) -> float | None:
        ticks = self.server.quotes(set(self.symbols.quote_symbols(trade[0], self._currency)))
        try:
            converted = to_account(
                amount, currency, self._currency, self.symbols, ticks, cost=cost, trade=trade
            )
        except PricingError as error:
            self._fail((constants.RES_E_FAIL, str(error)))
            return None
        return money(converted)

    def _history_args(
        self, date_from: Date | None, date_to: Date | None, ticket: int | None, position: int | None
    ) -> bool:
        if not self._ready() or not self._filters(ticket=ticket, position=position):
            return False
        given = [d for d in (date_from, date_to) if d is not None]
        if not self._dates(*given):
            return False
        if (date_from is None or date_to is None) and ticket is None and position is None:
            detail = "history needs date_from and date_to, or ticket, or position"
            return self._fail((constants.RES_E_INVALID_PARAMS, detail))
        return True


def _comment(answer: Answer) -> str:
    text = retcode(answer.retcode).comment
    return f"{text} ({answer.detail})" if answer.detail else text


def _selected(
    name: str, number: int, symbol: str | None, group: str | None, ticket: int | None
) -> bool:
    return (
        (symbol is None or name == symbol)
        and (ticket is None or number == ticket)
        and history.in_group(name, group)
    )
