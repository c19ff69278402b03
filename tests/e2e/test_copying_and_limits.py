"""One alert on many accounts and a day's loss limit, end to end: alerts posted to a real
gateway, the configuration changed through its API, routed and traded by `eaflow worker
rtss orders` on simulated accounts, the market moved with recorded quotes."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from typer.testing import CliRunner

from eaflow.cli.main import app
from model import OrderStatus
from model.report import InstanceReport, ReportKind
from tests.e2e.conftest import PREFIX, QUOTES, positions, seed, write_market
from tests.e2e.test_alert_controls import BEARER, Desk
from tests.e2e.warmup import warm_up
from tests.e2e.workers import Worker
from tests.eaflow.gateway.served import serving

pytestmark = pytest.mark.slow


@pytest.fixture
def desk(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> Iterator[Desk]:
    seed(redis_url, 3)
    write_market(redis_client)
    workers("rtss", "orders", env={"EAFLOW_DATA_DIR": str(tmp_path)})
    with (
        serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served,
        httpx.Client(base_url=served.url, timeout=30) as http,
    ):
        served.add_source(name="ops", secret=BEARER["Authorization"].split()[1], admin=True)
        warm_up(redis_client)
        deadline = time.monotonic() + 30
        while redis_client.exists(*(f"{PREFIX}state:demo-{n}" for n in (1, 2, 3))) < 3:
            assert time.monotonic() < deadline, "no account snapshots"
            time.sleep(0.05)
        time.sleep(0.6)  # the router's 500 ms refresh
        yield Desk(served, http, redis_client, redis_url)


def test_one_alert_is_sized_by_each_accounts_multiplier_fixed_lot_and_cap(desk: Desk) -> None:
    desk.configure("demo-2", lot_multiplier="3")
    desk.configure("demo-3", fixed_lot="0.05", max_volume="0.04")
    signal_id = desk.alert("tradingview,buy,EURUSD,vol_lots=0.02")
    for instance in ("demo-1", "demo-2", "demo-3"):
        desk.result(signal_id, instance)
    found = {r.instance: r for r in desk.results_of(signal_id)}
    one, two, three = found["demo-1"], found["demo-2"], found["demo-3"]
    assert (one.status, one.volume, one.sizing) == (
        OrderStatus.FILLED,
        Decimal("0.02"),
        "volume 0.02",
    )
    assert (two.status, two.volume) == (OrderStatus.FILLED, Decimal("0.06")), two
    assert two.sizing == "volume 0.02 × lot_multiplier 3 = 0.06"
    assert (three.status, three.field) == (OrderStatus.REJECTED, "max_volume"), three
    held = {p.ticket: p.volume for p in positions(desk.redis_url, 2)}
    assert held[two.position_ticket or 0] == 0.06  # what demo-2's broker holds


def test_a_days_loss_limit_closes_and_halts_an_account_on_a_market_move(desk: Desk) -> None:
    """demo-1 may lose 50 USD a day; a 1-lot buy loses 100 when EURUSD falls 10 pips: the
    router sees it on the next tick, closes the account's positions once and refuses its
    signals, while demo-2 (no rule) trades on."""
    desk.configure("demo-1", risk={"daily_loss": "50", "close_all": True})
    deadline = time.monotonic() + 10
    while not desk.redis.hkeys(f"{PREFIX}risk:demo-1"):  # the day's starting equity
        assert time.monotonic() < deadline, "no starting equity recorded"
        time.sleep(0.05)
    buy = desk.result(desk.alert("tradingview,buy,EURUSD,vol_lots=1,instances=demo-1"), "demo-1")
    assert buy.status is OrderStatus.FILLED, buy
    bid, ask = QUOTES["EURUSD"]
    write_market(desk.redis, {"EURUSD": (bid - 0.001, ask - 0.001)})

    deadline = time.monotonic() + 20
    while positions(desk.redis_url, 1):
        assert time.monotonic() < deadline, "the loss limit did not close demo-1"
        time.sleep(0.1)
    entries: Any = desk.redis.xrange(f"{PREFIX}ris")
    reports = [InstanceReport.model_validate_json(f[b"d"]) for _, f in entries]
    [hit] = [r for r in reports if r.kind is ReportKind.RISK_LIMIT]
    assert hit.instance == "demo-1" and "risk.daily_loss" in str(hit.error)
    refused = desk.result(
        desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-1"), "demo-1"
    )
    assert (refused.status, refused.field) == (OrderStatus.REJECTED, "risk.daily_loss"), refused
    other = desk.result(
        desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-2"), "demo-2"
    )
    assert other.status is OrderStatus.FILLED, other

    lifted = CliRunner().invoke(app, ["risk", "lift", "demo-1", "--redis", desk.redis_url])
    assert lifted.exit_code == 0, lifted.output  # the operator lifts it before the day ends
    time.sleep(1.2)  # a refresh drops the breach, the next records the new start
    again = desk.result(
        desk.alert("tradingview,buy,EURUSD,vol_lots=0.01,instances=demo-1"), "demo-1"
    )
    assert again.status is OrderStatus.FILLED, again
