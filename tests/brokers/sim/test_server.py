"""The simulator's back office: accounts, connections, markets."""

from __future__ import annotations

import pytest
import redis

from brokers.sim.server import SimServer
from brokers.sim.store import AccountMissing
from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import PREFIX


def test_open_an_account(server: SimServer, redis_client: redis.Redis) -> None:
    assert not server.account_exists(42)
    server.open_account(42, balance=2500.5, currency="EUR", leverage=30, hedging=False, name="x")
    assert server.account_exists(42)
    mt5 = SimTerminal(redis_client, PREFIX)
    assert mt5.initialize(login=42, server="eaflow-sim", password="anything")
    account = mt5.account_info()
    assert account is not None
    assert (account.balance, account.currency, account.leverage, account.name) == (
        2500.5,
        "EUR",
        30,
        "x",
    )
    assert account.margin_mode == mt5.ACCOUNT_MARGIN_MODE_RETAIL_NETTING
    (deposit,) = mt5.history_deals_get(0, 2**31) or ()
    assert (deposit.type, deposit.profit, deposit.comment) == (
        mt5.DEAL_TYPE_BALANCE,
        2500.5,
        "Initial deposit",
    )


def test_an_account_opens_once(server: SimServer) -> None:
    server.open_account(42)
    with pytest.raises(ValueError, match="login: account 42 already exists"):
        server.open_account(42, balance=1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"login": 0}, "login"),
        ({"login": True}, "login"),
        ({"login": 1, "balance": -1}, "balance"),
        ({"login": 1, "currency": "usd"}, "currency"),
        ({"login": 1, "currency": "DOLLAR"}, "currency"),
        ({"login": 1, "leverage": 0}, "leverage"),
    ],
)
def test_bad_account_values_name_the_field(
    server: SimServer, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        server.open_account(**kwargs)  # type: ignore[arg-type]


def test_unknown_accounts_cannot_be_disconnected(server: SimServer) -> None:
    with pytest.raises(AccountMissing, match="login: simulated account 9 does not exist"):
        server.set_connected(9, False)


def test_markets_open_and_close(server: SimServer, redis_client: redis.Redis) -> None:
    server.set_market_open("XAUUSD", False)
    assert redis_client.smembers(f"{PREFIX}sim:closed") == {b"XAUUSD"}
    server.set_market_open("XAUUSD", True)
    assert redis_client.smembers(f"{PREFIX}sim:closed") == set()
