"""`LinuxTerminal`: the MetaTrader5 API of a terminal under Wine, through an mt5linux server.

mt5linux runs an RPyC "classic" server in a Windows Python under Wine (`python -m mt5linux
<wine python.exe>`), next to the terminal. This client speaks the same protocol as mt5linux's
own client (`brokers/mt5/wire.py`). Each `MT5Api` function is forwarded by name with the
protocol's signature (`remote`), so the API is written out once, in `brokers/mt5/api.py`.
Failures follow MT5's convention: None (False for the bool functions) and `last_error()` says
why, e.g. `(-10004, "mt5linux server ... unreachable")`.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar, get_type_hints

from brokers.mt5 import constants, wire
from brokers.mt5.api import MT5Api, Mt5Module
from brokers.mt5.config import DEFAULT_PORT

P = ParamSpec("P")
R = TypeVar("R")
INSTALL_HINT = "mt5linux support needs RPyC: pip install 'eaflow[mt5linux]'"
NO_CONNECTION = constants.RES_E_INTERNAL_FAIL_CONNECT  # -10004, MT5's "No IPC connection"


def remote(
    function: Callable[Concatenate[MT5Api, P], R],
) -> Callable[Concatenate[LinuxTerminal, P], R]:
    """A `LinuxTerminal` method that runs the `MT5Api` function of the same name on the server.

    `remote(MT5Api.symbol_info)` has that function's signature, `(symbol: str) -> SymbolInfo |
    None`, and rebuilds the server's answer as the type the signature names.
    """
    name = function.__name__
    answer: Callable[[Any], R] = wire.decoder(get_type_hints(function)["return"])

    def call(terminal: LinuxTerminal, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return answer(terminal._call(name, args, kwargs))

    call.__name__, call.__qualname__ = name, f"LinuxTerminal.{name}"
    return call


class LinuxTerminal(Mt5Module):
    """A MetaTrader5-shaped module whose calls run in the terminal's Windows Python.

    Example: ``mt5 = LinuxTerminal("localhost", 18812); mt5.initialize(login=..., server=...)``.
    The connection is opened by `initialize()` and reopened by the next one after it broke.
    """

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
        from rpyc.core.stream import SocketStream  # type: ignore[import-untyped]

        conn = rpyc.classic.connect_stream(SocketStream(self._socket()))
        conn._config["sync_request_timeout"] = self.timeout
        try:
            conn.execute(wire.SERVER_SETUP)
        except Exception:
            conn.close()
            raise
        return conn

    def _socket(self) -> socket.socket:
        """The TCP connection to the server, with keepalives as `rpyc.classic.connect(...,
        keepalive=True)` sets them; opened here because rpyc's leaks its socket when refused."""
        sock = socket.create_connection((self.host, self.port), timeout=3)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):  # Linux: probe after 60 s idle, drop after 5 misses
            for option, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 60), ("TCP_KEEPCNT", 5)):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)
        return sock

    def _call(
        self, function: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        """`mt5.<function>(...)` on the server, as plain data; None when it is unreachable."""
        code = wire.call_source(function, args, kwargs or {})
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

    initialize = remote(MT5Api.initialize)
    login = remote(MT5Api.login)

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

    version = remote(MT5Api.version)
    account_info = remote(MT5Api.account_info)
    terminal_info = remote(MT5Api.terminal_info)
    symbols_total = remote(MT5Api.symbols_total)
    symbols_get = remote(MT5Api.symbols_get)
    symbol_info = remote(MT5Api.symbol_info)
    symbol_info_tick = remote(MT5Api.symbol_info_tick)
    symbol_select = remote(MT5Api.symbol_select)
    market_book_add = remote(MT5Api.market_book_add)
    market_book_get = remote(MT5Api.market_book_get)
    market_book_release = remote(MT5Api.market_book_release)
    copy_rates_from = remote(MT5Api.copy_rates_from)
    copy_rates_from_pos = remote(MT5Api.copy_rates_from_pos)
    copy_rates_range = remote(MT5Api.copy_rates_range)
    copy_ticks_from = remote(MT5Api.copy_ticks_from)
    copy_ticks_range = remote(MT5Api.copy_ticks_range)
    order_calc_margin = remote(MT5Api.order_calc_margin)
    order_calc_profit = remote(MT5Api.order_calc_profit)
    order_check = remote(MT5Api.order_check)
    order_send = remote(MT5Api.order_send)
    positions_total = remote(MT5Api.positions_total)
    positions_get = remote(MT5Api.positions_get)
    orders_total = remote(MT5Api.orders_total)
    orders_get = remote(MT5Api.orders_get)
    history_orders_total = remote(MT5Api.history_orders_total)
    history_orders_get = remote(MT5Api.history_orders_get)
    history_deals_total = remote(MT5Api.history_deals_total)
    history_deals_get = remote(MT5Api.history_deals_get)
