"""`SimTerminal`: a MetaTrader5-module look-alike whose trade server is the Redis simulator.

Use it exactly like the package::

    mt5 = SimTerminal(redis.Redis(), prefix="ea:")
    mt5.initialize(login=5_000_001, server="eaflow-sim")
    result = mt5.order_send({"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD",
                             "volume": 0.1, "type": mt5.ORDER_TYPE_BUY})

Calls are synchronous, answer MT5's record types, return None (or False) on failure with the
reason in `last_error()`, and carry every MT5 constant as an attribute; their signatures are
`MT5Api`'s (`brokers/mt5/api.py`), checked by mypy since the class derives from it. The
account lives in Redis, so a new terminal (after a crash) finds it as it was. `on_tick` is the
simulator's own addition: the tick worker feeds each tick through it to fill orders and hit
SL/TP.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt
import redis

from brokers.mt5 import constants
from brokers.mt5.api import Date, Mt5Module
from brokers.mt5.records import (
    AccountInfo,
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
from brokers.sim import history, views
from brokers.sim.engine import Answer, TradeServer
from brokers.sim.margin import PricingError, margin, money, profit, tick_values, to_account
from brokers.sim.request import RequestError, parse_request
from brokers.sim.store import AccountMissing
from brokers.sim.symbols import SymbolTable, default_symbols, with_quote
from brokers.sim.ticks import tick_array
from model.keys import Keys
from model.tick import Tick, entry_tick

SERVER = "eaflow-sim"
BUILD = 5000
OK = (constants.RES_S_OK, "Success")
NO_IPC = (constants.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
AUTH_FAILED = (constants.RES_E_AUTH_FAILED, "Authorization failed")

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
    replaces the trade server on Redis (the executor's accounts held in memory).
    """

    def __init__(
        self,
        redis: redis.Redis,
        prefix: str = "ea:",
        symbols: SymbolTable | None = None,
        clock: Callable[[], float] = time.time,
        server: TradeServer | None = None,
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.symbols = default_symbols() if symbols is None else symbols
        self.server = server or TradeServer(redis, prefix, self.symbols)
        self._clock = clock
        self._login: int | None = None
        self._currency = ""
        self._error = OK
        self._request_id = 0

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
        """Attach to an account opened with SimServer; False + (-6, ...) if there is none."""
        if login is None:
            return self._fail((constants.RES_E_INVALID_PARAMS, 'Invalid "login": required'))
        return self.login(login, password=password, server=server, timeout=timeout)

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
        self._login, self._currency, self._error = (
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
        return (500, BUILD, "eaflow simulator") if self._ready() else None

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

    @_ipc
    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        if not self._ready():
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
        if not self._ready() or not self._known(symbol):
            return None
        return self.server.quotes({symbol}).get(symbol)

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        return self._ready() and self._known(symbol)

    @_ipc
    def order_calc_margin(
        self, action: int, symbol: str, volume: float, price: float
    ) -> float | None:
        """Margin in the account currency of `volume` lots of a buy/sell at `price`."""
        info = self._calc_symbol(action, symbol)
        if info is None:
            return None
        amount = margin(info, volume, price, self._leverage())
        return self._converted(amount, info.currency_margin, (symbol, price), cost=True)

    @_ipc
    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        """Profit in the account currency of a buy/sell from `price_open` to `price_close`."""
        info = self._calc_symbol(action, symbol)
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
        if not self._ready():
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
        if not self._ready():
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
    def history_deals_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        if not self._history_args(date_from, date_to, ticket, position):
            return None
        key = self.server.keys(self._account).deals
        return history.deals(
            self.redis, key, date_from, date_to, group=group, ticket=ticket, position=position
        )

    @_ipc
    def copy_ticks_from(
        self, symbol: str, date_from: Date, count: int, flags: int
    ) -> npt.NDArray[np.void] | None:
        """Up to `count` ticks from `date_from` on, from what the tick stream still holds."""
        if not self._ready() or not self._known(symbol):
            return None
        start = history.millis(date_from)
        entries = self.redis.xrange(Keys(self.prefix).ticks(symbol)) or []
        ticks = [t for e in entries if (t := entry_tick([e])) and t.time_msc >= start]
        if flags == constants.COPY_TICKS_TRADE:
            ticks = [t for t in ticks if t.last > 0]
        return tick_array(ticks[:count])

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
            with_quote(i, ticks.get(i.name), tick_values(i, self._currency, self.symbols, ticks))
            for i in infos
        )

    def _calc_symbol(self, action: int, symbol: str) -> SymbolInfo | None:
        if not self._ready() or not self._known(symbol):
            return None
        if action not in (constants.ORDER_TYPE_BUY, constants.ORDER_TYPE_SELL):
            detail = f'Invalid "action": {action} is not ORDER_TYPE_BUY or ORDER_TYPE_SELL'
            self._fail((constants.RES_E_INVALID_PARAMS, detail))
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
        if not self._ready():
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
