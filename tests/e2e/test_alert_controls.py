"""Alert sources against the operator's controls, end to end: alerts posted to a real
gateway (HTTP, with the configuration API behind an admin secret), routed and traded by
`eaflow worker rtss orders` processes on a real Redis. Each test is one of issue 18's
attacks (2, 6, 8, 14) and fails on the code before its fix."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from brokers.mt5 import constants as mt5
from model import OrderStatus, Result
from tests.e2e.conftest import PREFIX, results, seed, terminal, write_market
from tests.e2e.warmup import warm_up
from tests.e2e.workers import Worker
from tests.eaflow.gateway.served import SECRET, Served, serving

pytestmark = pytest.mark.slow

ADMIN_SECRET = "admin-secret-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {ADMIN_SECRET}"}
SECRETS = {"tradingview": SECRET, "alpha": "alpha-secret-0123456789abcdef",
           "beta": "beta-secret-0123456789abcdef"}  # fmt: skip


@dataclass
class Desk:
    """The attacker's and the operator's side of one deployment."""

    served: Served
    http: httpx.Client
    redis: redis.Redis
    redis_url: str

    def alert(self, line: str) -> str:
        """Post one command line as its source (the line's first field); its signal id."""
        source = line.split(",", 1)[0]
        answer = self.http.post("/webhook/tradingview", content=f"{line},secret={SECRETS[source]}")
        assert answer.status_code == 200, answer.text
        [signal_id] = answer.json()["signal_ids"]
        return str(signal_id)

    def result(self, signal_id: str, instance: str, timeout: float = 30) -> Result:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for found in results(self.redis):
                if (found.signal_id, found.instance) == (signal_id, instance):
                    return found
            time.sleep(0.05)
        raise AssertionError(f"no result of {signal_id} on {instance} within {timeout}s")

    def results_of(self, signal_id: str) -> list[Result]:
        return [r for r in results(self.redis) if r.signal_id == signal_id]

    def configure(self, instance: str, **values: Any) -> int:
        """An operator's change through the configuration API; waits until it applies."""
        answer = self.http.patch(
            f"/config/instances/{instance}", headers=BEARER, json={"set": values}
        )
        assert answer.status_code == 200, answer.text
        version = int(answer.json()["version"])
        deadline = time.monotonic() + 10
        while int(self.redis.hget(f"{PREFIX}config:applied", instance) or 0) < version:
            assert time.monotonic() < deadline, f"version {version} not applied by {instance}"
            time.sleep(0.05)
        time.sleep(0.6)  # the router's 500 ms refresh
        return version

    def view(self, instance: str) -> dict[str, Any]:
        answer = self.http.get(f"/config/instances/{instance}", headers=BEARER)
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def open_tickets(self, number: int) -> set[int]:
        """demo-N's open positions, as its terminal sees them."""
        return {p.ticket for p in terminal(self.redis_url, number).positions_get() or ()}


@pytest.fixture
def desk(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> Iterator[Desk]:
    seed(redis_url, 2)
    write_market(redis_client)
    workers("rtss", "orders", env={"EAFLOW_DATA_DIR": str(tmp_path)})
    with (
        serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        for name in ("alpha", "beta"):
            served.add_source(name=name, secret=SECRETS[name])
        warm_up(redis_client)
        deadline = time.monotonic() + 30  # balances, for risk: the state sync's snapshots
        while redis_client.exists(f"{PREFIX}state:demo-1", f"{PREFIX}state:demo-2") < 2:
            assert time.monotonic() < deadline, "no account snapshots"
            time.sleep(0.05)
        time.sleep(0.6)  # the router's 500 ms refresh
        yield Desk(served, http, redis_client, redis_url)


def test_an_alert_cannot_lift_an_operators_halt(desk: Desk) -> None:
    """Attack 2: after an admin halted demo-2 through the configuration API, an `eaon`
    alert made it active again and a buy filled, while /config still said halted and the
    history had nothing. Now the eaon is refused by name, the buy too, and only an
    operator's change (recorded in the history) lifts the halt."""
    desk.configure("demo-2", trading_state="halted")
    held = desk.open_tickets(2)

    eaon = desk.result(desk.alert("tradingview,eaon,instances=demo-2"), "demo-2")
    assert (eaon.status, eaon.field) == (OrderStatus.REJECTED, "trading_state"), eaon
    assert "halted by an operator" in str(eaon.error)
    buy = desk.result(desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-2"), "demo-2")
    assert (buy.status, buy.field) == (OrderStatus.REJECTED, "trading_state"), buy
    assert desk.open_tickets(2) == held
    assert desk.view("demo-2")["config"]["trading_state"] == "halted"

    desk.configure("demo-2", trading_state="active")  # the operator lifts it
    again = desk.result(
        desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-2"), "demo-2"
    )
    assert again.status is OrderStatus.FILLED, again
    history = desk.http.get("/config/history", params={"instance": "demo-2"}, headers=BEARER)
    states = [c["change"]["set"]["trading_state"] for c in history.json()
              if "trading_state" in c["change"].get("set", {})]  # fmt: skip
    assert states == ["active", "halted"]  # newest first: both operator's changes, nothing else


def test_an_alerts_eaoff_is_its_own_switch_and_allowed_sources_apply(desk: Desk) -> None:
    """An eaoff holds until an eaon of a source the instance allows; the configuration
    shows it beside the operator's state, which it never changes; a source outside the
    instance's `allowed_sources` can neither switch it off nor on."""
    eaoff = desk.result(desk.alert("tradingview,eaoff,instances=demo-1"), "demo-1")
    assert eaoff.status is OrderStatus.MODIFIED, eaoff
    buy = desk.result(desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-1"), "demo-1")
    assert (buy.status, buy.field) == (OrderStatus.REJECTED, "trading_state"), buy
    assert "eaoff alert of source tradingview" in str(buy.error)
    view = desk.view("demo-1")
    assert view["config"]["trading_state"] == "active"
    assert (view["switch"]["state"], view["switch"]["source"]) == ("halted", "tradingview")

    desk.configure("demo-1", allowed_sources=["alpha"])
    for line in ("tradingview,eaon,instances=demo-1", "tradingview,eaoff,instances=demo-1"):
        refused = desk.result(desk.alert(line), "demo-1")
        assert (refused.status, refused.field) == (OrderStatus.REJECTED, "source"), refused
    still = desk.result(desk.alert("alpha,buy,EURUSD,vol_lots=0.01,instances=demo-1"), "demo-1")
    assert (still.status, still.field) == (OrderStatus.REJECTED, "trading_state"), still
    eaon = desk.result(desk.alert("alpha,eaon,instances=demo-1"), "demo-1")
    assert eaon.status is OrderStatus.MODIFIED, eaon
    filled = desk.result(desk.alert("alpha,buy,EURUSD,vol_lots=0.01,instances=demo-1"), "demo-1")
    assert filled.status is OrderStatus.FILLED, filled


def test_order_ids_are_scoped_per_source(desk: Desk) -> None:
    """Attack 14: one source's rejected `order_id` silently swallowed another source's
    later alert with the same id on that instance. Each source's ids are its own now; a
    source sending its own id again still gets no second result."""
    first = desk.alert("alpha,buy,EURUSD,vol_lots=0.015,order_id=dup-1,instances=demo-1")
    rejected = desk.result(first, "demo-1")
    assert (rejected.status, rejected.field) == (OrderStatus.REJECTED, "volume"), rejected
    theirs = desk.alert("beta,buy,EURUSD,vol_lots=0.01,order_id=dup-1,instances=demo-1")
    again = desk.alert("beta,buy,EURUSD,vol_lots=0.01,order_id=dup-1,instances=demo-1")
    marker = desk.alert("beta,buy,EURUSD,vol_lots=0.01,order_id=marker-1,instances=demo-1")
    assert desk.result(marker, "demo-1").status is OrderStatus.FILLED  # after theirs and again
    [filled] = desk.results_of(theirs)
    assert (filled.status, filled.order_id) == (OrderStatus.FILLED, "beta/dup-1"), filled
    assert rejected.order_id == "alpha/dup-1"
    assert desk.results_of(again) == []  # the same source's id: once only


def test_a_ticket_exit_touches_only_the_instances_own_trades(desk: Desk) -> None:
    """Attack 6: `ticket=` skipped the magic check, so an alert closed a manual trade and
    another EA's position (tickets are public through /api/state). Now such an exit is
    refused naming the ticket, and both positions stay open."""
    sim = terminal(desk.redis_url, 1)
    tick = sim.symbol_info_tick("EURUSD")
    assert tick is not None
    foreign = {}
    for who, magic in (("manual", 0), ("other EA", 777)):
        sent = sim.order_send(
            {"action": mt5.TRADE_ACTION_DEAL, "symbol": "EURUSD", "volume": 0.05,
             "type": mt5.ORDER_TYPE_BUY, "price": tick.ask, "magic": magic,
             "type_filling": mt5.ORDER_FILLING_FOK, "comment": who}
        )  # fmt: skip
        assert sent is not None and sent.retcode == mt5.TRADE_RETCODE_DONE, sent
        foreign[who] = sent.order
    for who, ticket in foreign.items():
        line = f"tradingview,closelong,EURUSD,ticket={ticket},instances=demo-1"
        refused = desk.result(desk.alert(line), "demo-1")
        assert (refused.status, refused.field) == (OrderStatus.REJECTED, "ticket"), (who, refused)
        assert "not a trade of this instance" in str(refused.error)
    assert set(foreign.values()) <= desk.open_tickets(1)

    own = desk.result(desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-1"), "demo-1")
    assert own.status is OrderStatus.FILLED and own.position_ticket is not None, own
    line = f"tradingview,closelong,EURUSD,ticket={own.position_ticket},instances=demo-1"
    closed = desk.result(desk.alert(line), "demo-1")
    assert closed.status is OrderStatus.CLOSED, closed
    assert own.position_ticket not in desk.open_tickets(1)
    assert set(foreign.values()) <= desk.open_tickets(1)


def test_per_order_caps_on_size_and_risk(desk: Desk) -> None:
    """Attack 8: `sizing=risk_percent, risk=150` risked 15,000 USD on a 10,000 USD account.
    Risk beyond the balance is refused by name; `max_volume` and `max_risk_percent` cap
    one order per instance and per symbol (EURUSD's 0.5 lots; NZDUSD keeps the instance's
    2), and another instance without caps is not affected."""
    reckless = "tradingview,buy,EURUSD,vol_pct=150,sl_pips=20,instances=demo-1"
    refused = desk.result(desk.alert(reckless), "demo-1")
    assert (refused.status, refused.field) == (OrderStatus.REJECTED, "risk"), refused

    desk.configure(
        "demo-1", max_risk_percent=1, max_volume=2, **{"symbols.EURUSD.max_volume": "0.5"}
    )
    cases = [  # 10,000 USD; one EURUSD or NZDUSD pip of one lot is 10 USD
        ("EURUSD,vol_lots=1,sl_pips=5", "max_volume"),  # 50 USD, but over 0.5 lots
        ("EURUSD,vol_lots=0.1", "max_risk_percent"),  # no stop loss: risk without bound
        ("EURUSD,vol_pct=2,sl_pips=100", "max_risk_percent"),  # 0.2 lots, 200 USD: 2%
        ("EURUSD,vol_lots=0.3,sl_pips=20", None),  # 60 USD: 0.6%
        ("NZDUSD,vol_lots=1,sl_pips=5", None),  # 50 USD: 0.5%, and 1 lot is within 2
        ("NZDUSD,vol_lots=2.5,sl_pips=5", "max_volume"),  # over the instance's 2 lots
    ]
    for params, field in cases:
        result = desk.result(desk.alert(f"tradingview,buy,{params},instances=demo-1"), "demo-1")
        if field is None:
            assert result.status is OrderStatus.FILLED, (params, result)
        else:
            assert (result.status, result.field) == (OrderStatus.REJECTED, field), (params, result)
            assert str(result.error).startswith(f"{field}: "), result  # the field and rule
    other = desk.result(desk.alert("tradingview,buy,EURUSD,vol_lots=1,instances=demo-2"), "demo-2")
    assert other.status is OrderStatus.FILLED, other
