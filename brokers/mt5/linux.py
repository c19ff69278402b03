"""`LinuxTerminal`: the MetaTrader5 API of a terminal under Wine, through an mt5linux server.

mt5linux runs an RPyC "classic" server in a Windows Python under Wine (`python -m mt5linux
<wine python.exe>`), next to the terminal. This client speaks the same protocol as mt5linux's
own client: each call is evaluated remotely as `mt5.<function>(<repr of the arguments>)`, since
MT5's C functions refuse proxied dicts. Answers are turned into plain data on the server and
rebuilt here as `brokers.mt5.records` named tuples, so nothing depends on the MetaTrader5
package being importable on Linux. Failures follow MT5's convention: None (False for the bool
functions) and `last_error()` says why, e.g. `(-10004, "mt5linux server ... unreachable")`.
"""

from __future__ import annotations

import contextlib
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from brokers.mt5 import constants
from brokers.mt5.api import Date
from brokers.mt5.config import DEFAULT_PORT
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
from model.tick import Tick


class Record(Protocol):
    """A `brokers.mt5.records` named tuple type."""

    @property
    def _fields(self) -> tuple[str, ...]: ...


R = TypeVar("R", bound=Record)
INSTALL_HINT = "mt5linux support needs RPyC: pip install 'eaflow[mt5linux]'"
NO_CONNECTION = constants.RES_E_INTERNAL_FAIL_CONNECT  # -10004, MT5's "No IPC connection"
# Defined once per connection on the server: named tuples become dicts, tuples lists.
SERVER_SETUP = """
import datetime
import MetaTrader5 as mt5

def _eaflow_plain(value):
    if hasattr(value, "_asdict"):
        return {k: _eaflow_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (tuple, list)):
        return [_eaflow_plain(v) for v in value]
    return value
"""
SCALARS = (type(None), bool, int, float, str, datetime)


class LinuxTerminal:
    """A MetaTrader5-shaped module whose calls run in the terminal's Windows Python.

    Example: ``mt5 = LinuxTerminal("localhost", 18812); mt5.initialize(login=..., server=...)``.
    The connection is opened by `initialize()` and reopened by the next one after it broke.
    """

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> int: ...  # the MT5 constants, set below

    def __init__(self, host: str = "localhost", port: int = DEFAULT_PORT, timeout: float = 60.0):
        self.host = host
        self.port = port
        self.timeout = timeout
        self._conn: Any = None
        self._error: tuple[int, str] | None = None

    def _connect(self) -> Any:
        try:
            import rpyc  # type: ignore[import-untyped]
        except ImportError as error:
            raise ImportError(INSTALL_HINT) from error
        conn = rpyc.classic.connect(self.host, self.port, keepalive=True)
        conn._config["sync_request_timeout"] = self.timeout
        try:
            conn.execute(SERVER_SETUP)
        except Exception:
            conn.close()
            raise
        return conn

    def _call(self, function: str, *args: Any, **kwargs: Any) -> Any:
        """`mt5.<function>(...)` on the server, as plain data; None when it is unreachable."""
        code = f"_eaflow_plain(mt5.{function}({_arguments(args, kwargs)}))"
        try:
            if self._conn is None:
                self._conn = self._connect()
            from rpyc.utils.classic import obtain  # type: ignore[import-untyped]

            value = obtain(self._conn.eval(code))
        except (OSError, EOFError) as error:  # refused, reset, timed out (TimeoutError), closed
            return self._failed(f"unreachable: {error or type(error).__name__}")
        except ImportError:
            raise
        except Exception as error:  # the server could not set up MetaTrader5
            if self._conn is not None:
                raise  # an error of the call itself, e.g. a bad argument: as MT5 raises it
            return self._failed(f"cannot serve MetaTrader5: {error}")
        self._error = None
        return value

    def _failed(self, why: str) -> None:
        self._drop()
        self._error = (NO_CONNECTION, f"mt5linux server {self.host}:{self.port} {why}")

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(OSError, EOFError):
                conn.close()

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
        options = {"login": login, "password": password, "server": server, "timeout": timeout}
        kwargs = {k: v for k, v in options.items() if v is not None}
        if portable:
            kwargs["portable"] = True
        args = (path,) if path is not None else ()
        return bool(self._call("initialize", *args, **kwargs))

    def login(
        self,
        login: int,
        *,
        password: str | None = None,
        server: str | None = None,
        timeout: int | None = None,
    ) -> bool:
        options = {"password": password, "server": server, "timeout": timeout}
        return bool(self._call("login", login, **_given(**options)))

    def shutdown(self) -> None:
        if self._conn is not None:
            self._call("shutdown")
        self._drop()

    def last_error(self) -> tuple[int, str]:
        if self._error is not None:
            return self._error
        answer = self._call("last_error")
        if answer is None:
            return self._error or (NO_CONNECTION, "no answer")
        return int(answer[0]), str(answer[1])

    def version(self) -> tuple[int, int, str] | None:
        answer = self._call("version")
        return None if answer is None else (int(answer[0]), int(answer[1]), str(answer[2]))

    def account_info(self) -> AccountInfo | None:
        return _one(AccountInfo, self._call("account_info"))

    def terminal_info(self) -> TerminalInfo | None:
        return _one(TerminalInfo, self._call("terminal_info"))

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        return _many(SymbolInfo, self._call("symbols_get", **_given(group=group)))

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        return _one(SymbolInfo, self._call("symbol_info", symbol))

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        return _one(Tick, self._call("symbol_info_tick", symbol))

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        return bool(self._call("symbol_select", symbol, enable))

    def order_calc_margin(
        self, action: int, symbol: str, volume: float, price: float
    ) -> float | None:
        answer = self._call("order_calc_margin", action, symbol, volume, price)
        return None if answer is None else float(answer)

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        answer = self._call("order_calc_profit", action, symbol, volume, price_open, price_close)
        return None if answer is None else float(answer)

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        return _with_request(OrderCheckResult, self._call("order_check", request))

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        return _with_request(OrderSendResult, self._call("order_send", request))

    def positions_total(self) -> int | None:
        answer = self._call("positions_total")
        return None if answer is None else int(answer)

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        answer = self._call("positions_get", **_given(symbol=symbol, group=group, ticket=ticket))
        return _many(TradePosition, answer)

    def orders_total(self) -> int | None:
        answer = self._call("orders_total")
        return None if answer is None else int(answer)

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        answer = self._call("orders_get", **_given(symbol=symbol, group=group, ticket=ticket))
        return _many(TradeOrder, answer)

    def history_orders_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        args = tuple(d for d in (date_from, date_to) if d is not None)
        filters = _given(group=group, ticket=ticket, position=position)
        return _many(TradeOrder, self._call("history_orders_get", *args, **filters))

    def history_deals_get(
        self,
        date_from: Date | None = None,
        date_to: Date | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        args = tuple(d for d in (date_from, date_to) if d is not None)
        filters = _given(group=group, ticket=ticket, position=position)
        return _many(TradeDeal, self._call("history_deals_get", *args, **filters))

    def copy_ticks_from(
        self, symbol: str, date_from: Date, count: int, flags: int
    ) -> npt.NDArray[np.void] | None:
        answer = self._call("copy_ticks_from", symbol, date_from, count, flags)
        return None if answer is None else np.asarray(answer)


for _name in dir(constants):  # `mt5.TRADE_ACTION_DEAL` works as with the real module
    if _name.isupper():
        setattr(LinuxTerminal, _name, getattr(constants, _name))


def _given(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The arguments as Python source; only plain values, so the text is safe to evaluate."""
    for value in (*args, *kwargs.values()):
        _check_plain(value)
    return ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])


def _check_plain(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"request: key {key!r} must be a string")
            _check_plain(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_plain(item)
    elif not isinstance(value, SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
        raise TypeError(f"argument {value!r} cannot be sent to an mt5linux server")


def _known(record: type[Any], data: dict[str, Any]) -> dict[str, Any]:
    """The fields the record has; fields a newer terminal adds are dropped."""
    names: tuple[str, ...] = record._fields
    return {k: v for k, v in data.items() if k in names}


def _one(record: type[R], data: Any) -> R | None:
    return None if data is None else record(**_known(record, data))


def _many(record: type[R], data: Any) -> tuple[R, ...] | None:
    return None if data is None else tuple(record(**_known(record, d)) for d in data)


def _with_request(record: type[R], data: Any) -> R | None:
    if data is None:
        return None
    fields = _known(record, data)
    if isinstance(fields.get("request"), dict):
        fields["request"] = _one(TradeRequest, fields["request"])
    return record(**fields)
