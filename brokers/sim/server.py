"""`SimServer`: the simulated broker's back office — open accounts, cut connections, close markets.

Example::

    server = SimServer(redis.Redis(), prefix="ea:")
    server.open_account(5_000_001, balance=10_000, currency="USD", leverage=100)
    server.set_market_open("XAUUSD", False)   # order_send on XAUUSD now answers 10018
    server.set_connected(5_000_001, False)    # order_send now answers 10031
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis

from brokers.mt5 import constants as mt5
from brokers.mt5.records import TradeDeal
from brokers.sim.book import Account
from brokers.sim.store import (
    COMMIT,
    AccountKeys,
    AccountMissing,
    Conflict,
    account_fields,
    commit,
    dump,
)
from brokers.sim.swaps import last_rollover


class SimServer:
    """Administration of the simulated accounts kept under `prefix` in Redis."""

    def __init__(
        self, redis: redis.Redis, prefix: str = "ea:", clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self._clock = clock  # server time in seconds: the deposit's time, the first rollover
        self._script = redis.register_script(COMMIT)

    def account_exists(self, login: int) -> bool:
        return bool(self.redis.exists(AccountKeys(self.prefix, login).account))

    def open_account(
        self,
        login: int,
        balance: float = 10_000,
        currency: str = "USD",
        leverage: int = 100,
        hedging: bool = True,
        name: str = "",
        margin_so_mode: int = mt5.ACCOUNT_STOPOUT_MODE_PERCENT,
        margin_so_call: float = 50.0,
        margin_so_so: float = 30.0,
    ) -> None:
        """Create an account with its first deposit (a DEAL_TYPE_BALANCE deal, as MT5 shows it).

        The margin call and stop-out levels are MetaQuotes-Demo's, 50 % and 30 %, unless given
        (`margin_so_mode` ACCOUNT_STOPOUT_MODE_MONEY reads them as equity in money). ValueError
        names the field for a bad value or a login that already exists.
        """
        if isinstance(login, bool) or not isinstance(login, int) or login <= 0:
            raise ValueError(f"login: must be a positive integer, got {login!r}")
        if balance < 0:
            raise ValueError(f"balance: must be >= 0, got {balance!r}")
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            raise ValueError(f"currency: must be a 3-letter ISO code like USD, got {currency!r}")
        if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
            raise ValueError(f"leverage: must be an integer >= 1, got {leverage!r}")
        if margin_so_mode not in (mt5.ACCOUNT_STOPOUT_MODE_PERCENT, mt5.ACCOUNT_STOPOUT_MODE_MONEY):
            raise ValueError(
                f"margin_so_mode: must be an ACCOUNT_STOPOUT_MODE_*, got {margin_so_mode!r}"
            )
        if not 0 <= margin_so_so <= margin_so_call:
            raise ValueError(
                f"margin_so_so: must be >= 0 and <= margin_so_call {margin_so_call!r}, "
                f"got {margin_so_so!r}"
            )
        keys = AccountKeys(self.prefix, login)
        now_ms = int(self._clock() * 1000)
        account = Account(
            login,
            name,
            currency,
            leverage,
            hedging,
            float(balance),
            margin_so_mode=margin_so_mode,
            margin_so_call=float(margin_so_call),
            margin_so_so=float(margin_so_so),
            rollover=last_rollover(now_ms / 1000),
        )
        ticket = int(self.redis.incr(keys.tickets))
        deposit = TradeDeal(
            ticket=ticket,
            order=0,
            time=now_ms // 1000,
            time_msc=now_ms,
            type=mt5.DEAL_TYPE_BALANCE,
            entry=mt5.DEAL_ENTRY_IN,
            magic=0,
            position_id=0,
            reason=mt5.DEAL_REASON_CLIENT,
            volume=0.0,
            price=0.0,
            commission=0.0,
            swap=0.0,
            profit=float(balance),
            fee=0.0,
            symbol="",
            comment="Initial deposit",
            external_id="",
        )
        fields = [x for pair in account_fields(account).items() for x in pair]
        ops: list[list[object]] = [["HSET", keys.account, *fields]]
        if balance:
            ops.append(["ZADD", keys.deals, now_ms, dump(deposit)])
        try:
            commit(self._script, keys, 0, ops)
        except Conflict as error:
            raise ValueError(f"login: account {login} already exists") from error

    def set_connected(self, login: int, up: bool) -> None:
        """Connect or cut the account's terminals from the trade server (down: 10031)."""
        self._set(login, "connected", "1" if up else "0")

    def set_market_open(self, symbol: str, open: bool) -> None:
        """Open or close a symbol's market for every account (closed: 10018)."""
        key = AccountKeys(self.prefix, 0).closed
        if open:
            self.redis.srem(key, symbol)
        else:
            self.redis.sadd(key, symbol)

    def _set(self, login: int, field: str, value: str) -> None:
        keys = AccountKeys(self.prefix, login)
        if not self.account_exists(login):
            raise AccountMissing(f"login: simulated account {login} does not exist")
        self.redis.hset(keys.account, field, value)
