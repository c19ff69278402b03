"""A pending order moved from the console: a `modify` signal for that ticket on `rtss` under
the admin's source, recorded with its actor; viewers, tickets that are no pending order and
prices that are not positive refused. With real router and executor processes, the order's
price and stops move in the simulated account."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import redis

from model import PendingOrderState, Signal
from tests.e2e.conftest import results, seed, send_raw, terminal, wait_for_results, write_market
from tests.e2e.conftest import workers as workers  # the e2e worker processes fixture
from tests.e2e.workers import Worker
from tests.eaflow.gateway.console.accounts import ADMIN_SECRET, KEYS, snapshot
from tests.eaflow.gateway.console.conftest import signed_in
from tests.eaflow.gateway.console.test_trades import held_in_snapshot, result_of
from tests.eaflow.gateway.served import Served, serving

LIMIT = PendingOrderState(
    ticket=2001,
    symbol="XAUUSD",
    type=2,  # buy limit
    volume=0.1,
    price_open=1200.0,
    price_stoplimit=0.0,
    sl=0.0,
    tp=0.0,
    magic=0,
    comment="",
)


@pytest.fixture
def pending(console: Served) -> Served:
    """demo-1 holds position 1000 and the pending order LIMIT (2001)."""
    state = snapshot("demo-1", 1).model_copy(update={"orders": (LIMIT,)})
    console.client.set(KEYS.state("demo-1"), state.model_dump_json())
    return console


def field_of(answer: httpx.Response) -> str:
    found = answer.json()
    named: str = found.get("field", found.get("detail", {}).get("field"))
    return named


def test_an_admin_moves_a_pending_order_with_a_modify_signal(
    pending: Served, admin: httpx.Client
) -> None:
    body = {"instance": "demo-1", "ticket": 2001, "price": "1210.5", "stop_loss": "1190"}
    sent = admin.post("/console/api/modify", json=body)
    assert sent.status_code == 200, sent.text
    [signal] = [Signal.model_validate(s) for s in pending.signals()]
    assert (signal.action, signal.ticket, signal.symbol, signal.instances, signal.source) == (
        "modify",
        2001,
        "XAUUSD",
        ("demo-1",),
        "ops",
    )
    # the TP not given is kept: the executor's request keeps the order's own
    assert (signal.price, signal.stop_loss, signal.take_profit) == (
        Decimal("1210.5"),
        Decimal("1190"),
        None,
    )
    assert signal.signal_id == sent.json()["signal_id"]
    recorded = pending.security_events()[-1]
    assert (recorded["actor"], recorded["action"], recorded["ticket"]) == (
        "source:ops",
        "modify",
        2001,
    )
    assert (recorded["price"], recorded["stop_loss"], recorded["signal_id"]) == (
        "1210.5",
        "1190",
        signal.signal_id,
    )


def test_moving_is_refused_to_viewers_for_positions_and_for_prices_not_positive(
    pending: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    body = {"instance": "demo-1", "ticket": 2001, "price": "1210"}
    refused = viewer.post("/console/api/modify", json=body)
    assert refused.status_code == 403 and field_of(refused) == "session", refused.text
    assert pending.security_events()[-1]["kind"] == "admin"
    for wrong, field in (
        ({"ticket": 1000}, "ticket"),  # an open position, not a pending order
        ({"ticket": 4242}, "ticket"),
        ({"instance": "demo-9"}, "instance"),
        ({"price": "0"}, "price"),
        ({"price": "-1210"}, "price"),
        ({"stop_loss": "-1"}, "stop_loss"),
    ):
        answer = admin.post("/console/api/modify", json={**body, **wrong})
        assert answer.status_code == 422, (wrong, answer.text)
        assert field_of(answer) == field, answer.text
    missing = admin.post("/console/api/modify", json={"instance": "demo-1", "ticket": 2001})
    assert missing.status_code == 422 and field_of(missing) == "price", missing.text
    assert pending.signals() == []


def test_a_modify_moves_the_pending_order_in_the_simulated_account(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
) -> None:
    """Real router and executor processes: a buy limit placed at 1.2 is moved to 1.25 with a
    stop loss at 1.2, its take profit kept, and ends in one `modified` result."""
    seed(redis_url, 1)
    write_market(redis_client)
    workers("rtss", "orders")
    limit = {"symbol": "EURUSD", "order_type": "buy_limit", "price": 1.2, "take_profit": 1.3}
    send_raw(redis_client, {**limit, "volume": 0.1})
    [placed] = wait_for_results(redis_client, 1)
    assert placed.status == "placed", placed
    order = placed.order_ticket
    assert order is not None
    held_in_snapshot(redis_client, "demo-1", order, pending=True)
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        with signed_in(served) as admin:
            body = {"instance": "demo-1", "ticket": order, "price": "1.25", "stop_loss": "1.2"}
            sent = admin.post("/console/api/modify", json=body)
            assert sent.status_code == 200, sent.text
    [moved] = result_of(redis_client, sent.json()["signal_id"])
    assert (moved.status, moved.instance, moved.source, moved.action) == (
        "modified",
        "demo-1",
        "ops",
        "modify",
    )
    [now] = terminal(redis_url, 1).orders_get() or ()
    assert (now.ticket, now.price_open, now.sl, now.tp) == (order, 1.25, 1.2, 1.3)
    assert len(results(redis_client)) == 2  # the placement and the one modify
