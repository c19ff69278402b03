"""Trades from the console: a close (whole or partial), sltp or cancel signal for that ticket
on `rtss` under the admin's source, recorded with its actor; a close_all for a group or for
every instance; viewers, unknown tickets and over-volume refused. With real router and
executor processes: a partial close leaves the rest open in the simulated account, and a
close all on every instance ends in one result per instance."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import redis

from brokers.sim.symbols import default_symbols
from model import AccountState, InstanceSpec, PendingOrderState, Result, Signal, TradingConfig
from tests.e2e.conftest import positions, results, seed, send_raw, wait_for_results, write_market
from tests.e2e.conftest import workers as workers  # the e2e worker processes fixture
from tests.e2e.workers import Worker
from tests.eaflow.gateway.console.accounts import ADMIN_SECRET, KEYS, snapshot
from tests.eaflow.gateway.console.conftest import signed_in
from tests.eaflow.gateway.served import Served, serving


def test_an_admin_closes_a_position_with_a_close_signal(
    console: Served, admin: httpx.Client
) -> None:
    sent = admin.post("/console/api/close", json={"instance": "demo-2", "ticket": 1001})
    assert sent.status_code == 200, sent.text
    [signal] = [Signal.model_validate(s) for s in console.signals()]
    assert (signal.action, signal.ticket, signal.symbol, signal.instances, signal.source) == (
        "close",
        1001,
        "EURUSD",
        ("demo-2",),
        "ops",
    )
    assert signal.signal_id == sent.json()["signal_id"]
    recorded = console.security_events()[-1]
    assert (recorded["actor"], recorded["action"], recorded["signal_id"]) == (
        "source:ops",
        "close",
        signal.signal_id,
    )


def test_closing_is_refused_to_viewers_and_for_unknown_positions(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    refused = viewer.post("/console/api/close", json={"instance": "demo-2", "ticket": 1001})
    assert refused.status_code == 403 and refused.json()["detail"]["field"] == "session"
    for path, body, field in (
        ("close", {"instance": "demo-2", "ticket": 4242}, "ticket"),
        ("close", {"instance": "demo-9", "ticket": 1001}, "instance"),
        ("cancel", {"instance": "demo-2", "ticket": 1001}, "ticket"),  # a position, not an order
        (
            "sltp",
            {"instance": "demo-2", "ticket": 1001, "stop_loss": -1, "take_profit": 0},
            "stop_loss",
        ),
    ):
        answer = admin.post(f"/console/api/{path}", json=body)
        assert answer.status_code == 422, answer.text
        found = answer.json()
        assert found.get("field", found.get("detail", {}).get("field")) == field
    assert console.signals() == []


def test_an_admin_sets_stops_and_cancels_an_order_with_signals(
    console: Served, admin: httpx.Client
) -> None:
    pending = PendingOrderState(
        ticket=2001,
        symbol="XAUUSD",
        type=2,
        volume=0.1,
        price_open=1200.0,
        price_stoplimit=0.0,
        sl=0.0,
        tp=0.0,
        magic=0,
        comment="",
    )
    state = snapshot("demo-1", 1).model_copy(update={"orders": (pending,)})
    console.client.set(KEYS.state("demo-1"), state.model_dump_json())
    stops = {"instance": "demo-1", "ticket": 1000, "stop_loss": "1.08", "take_profit": "1.09"}
    assert admin.post("/console/api/sltp", json=stops).status_code == 200
    cancel = admin.post("/console/api/cancel", json={"instance": "demo-1", "ticket": 2001})
    assert cancel.status_code == 200, cancel.text
    sltp, cancelled = [Signal.model_validate(s) for s in console.signals()]
    assert (sltp.action, sltp.ticket, sltp.symbol, sltp.stop_loss, sltp.take_profit) == (
        "sltp",
        1000,
        "EURUSD",
        Decimal("1.08"),
        Decimal("1.09"),
    )
    assert (cancelled.action, cancelled.ticket, cancelled.symbol, cancelled.source) == (
        "cancel",
        2001,
        "XAUUSD",
        "ops",
    )
    actions = [(e["action"], e["signal_id"]) for e in console.security_events()[-2:]]
    assert actions == [("sltp", sltp.signal_id), ("cancel", cancelled.signal_id)]


def test_an_admin_closes_all_of_a_group_with_one_signal(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    body = {"group": "eu", "symbol": "EURUSD"}
    assert viewer.post("/console/api/close_all", json=body).status_code == 403
    unknown = admin.post("/console/api/close_all", json={"group": "nobody"})
    assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "group"
    sent = admin.post("/console/api/close_all", json=body)
    assert sent.status_code == 200, sent.text
    assert sent.json()["instances"] == ["demo-1", "demo-2"]
    [signal] = [Signal.model_validate(s) for s in console.signals()]
    assert (signal.action, signal.group, signal.symbol, signal.source) == (
        "close_all",
        "eu",
        "EURUSD",
        "ops",
    )
    recorded = console.security_events()[-1]
    assert (recorded["action"], recorded["instances"]) == ("close_all", ["demo-1", "demo-2"])


def test_a_partial_close_carries_its_volume_and_more_than_the_position_is_refused(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    part = {"instance": "demo-2", "ticket": 1001, "volume": "0.04"}
    assert viewer.post("/console/api/close", json=part).status_code == 403
    over = admin.post("/console/api/close", json={**part, "volume": "0.15"})
    assert over.status_code == 422, over.text  # the position holds 0.1 lots
    assert over.json()["detail"] == {
        "error": "volume: 0.15 lots is more than position 1001 holds "
        "(0.1 lots in demo-2's last snapshot)",
        "field": "volume",
        "reason": "invalid",
    }
    for volume in ("0", "-0.1"):
        refused = admin.post("/console/api/close", json={**part, "volume": volume})
        assert refused.status_code == 422 and refused.json()["field"] == "volume", refused.text
    assert console.signals() == []
    sent = admin.post("/console/api/close", json=part)
    assert sent.status_code == 200, sent.text
    [signal] = [Signal.model_validate(s) for s in console.signals()]
    assert (signal.action, signal.ticket, signal.volume, signal.instances, signal.source) == (
        "close",
        1001,
        Decimal("0.04"),
        ("demo-2",),
        "ops",
    )
    recorded = console.security_events()[-1]
    assert (recorded["action"], recorded["volume"], recorded["signal_id"]) == (
        "close",
        "0.04",
        signal.signal_id,
    )


def test_an_admin_closes_a_symbol_on_every_instance_naming_each(
    console: Served, viewer: httpx.Client, admin: httpx.Client
) -> None:
    body = {"all": True, "symbol": "EURUSD"}
    assert viewer.post("/console/api/close_all", json=body).status_code == 403
    for mixed in ({**body, "group": "eu"}, {"symbol": "EURUSD"}, {"all": False}):
        refused = admin.post("/console/api/close_all", json=mixed)
        assert refused.status_code == 422 and "exactly one" in refused.json()["error"], mixed
    sent = admin.post("/console/api/close_all", json=body)
    assert sent.status_code == 200, sent.text
    everyone = [f"demo-{n}" for n in range(1, 6)]
    assert (sent.json()["all"], sent.json()["instances"]) == (True, everyone)
    [signal] = [Signal.model_validate(s) for s in console.signals()]
    assert (signal.action, signal.group, signal.instances, signal.symbol) == (
        "close_all",
        None,
        tuple(everyone),
        "EURUSD",
    )
    recorded = console.security_events()[-1]
    assert (recorded["actor"], recorded["all"], recorded["instances"]) == (
        "source:ops",
        True,
        everyone,
    )


def held_in_snapshot(
    client: redis.Redis, instance: str, ticket: int, pending: bool = False
) -> None:
    """Wait until the instance's snapshot (what the console checks a ticket against) holds
    the position (or the pending order)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        raw = client.get(KEYS.state(instance))
        if raw:
            state = AccountState.model_validate_json(raw)
            if any(t.ticket == ticket for t in (state.orders if pending else state.positions)):
                return
        time.sleep(0.1)
    raise AssertionError(f"{ticket} not in {instance}'s snapshot within 30 s")


def result_of(client: redis.Redis, signal_id: str, count: int = 1) -> list[Result]:
    """The `count` results of one signal, waited for."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [r for r in results(client) if r.signal_id == signal_id]
        if len(found) >= count:
            return sorted(found, key=lambda r: r.instance)
        time.sleep(0.1)
    raise AssertionError(f"no {count} results of {signal_id} within 60 s")


def test_a_partial_close_leaves_the_rest_open_in_the_simulated_account(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
) -> None:
    """Real router and executor processes: 0.1 of a 0.3 lot position closed from the console
    leaves 0.2 open; more than the position is refused before any signal."""
    seed(redis_url, 1)
    write_market(redis_client)
    workers("rtss", "orders")
    send_raw(redis_client, {"symbol": "EURUSD", "order_type": "buy", "volume": 0.3})
    [opened] = wait_for_results(redis_client, 1)
    assert opened.status == "filled", opened
    ticket = opened.position_ticket
    assert ticket is not None
    held_in_snapshot(redis_client, "demo-1", ticket)
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        with signed_in(served) as admin:
            body = {"instance": "demo-1", "ticket": ticket, "volume": "0.4"}
            over = admin.post("/console/api/close", json=body)
            assert over.status_code == 422 and over.json()["detail"]["field"] == "volume"
            sent = admin.post("/console/api/close", json={**body, "volume": "0.1"})
            assert sent.status_code == 200, sent.text
    [closed] = result_of(redis_client, sent.json()["signal_id"])
    assert (closed.status, closed.instance, closed.source, closed.volume) == (
        "closed",
        "demo-1",
        "ops",
        Decimal("0.1"),
    )
    [rest] = positions(redis_url, 1)
    assert (rest.ticket, round(rest.volume, 8)) == (ticket, 0.2)
    assert len(results(redis_client)) == 2  # the open and the one close: nothing else


def test_closing_a_symbol_on_every_instance_gives_one_result_per_instance(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
) -> None:
    """Real router and executor processes: demo-1 and demo-2 hold EURUSD, demo-3 nothing;
    closing EURUSD on every instance closes both and answers for demo-3 too."""
    seed(redis_url, 3)
    write_market(redis_client)
    workers("rtss", "orders")
    for instance in ("demo-1", "demo-2"):
        send_raw(
            redis_client,
            {"symbol": "EURUSD", "order_type": "buy", "volume": 0.1, "instances": [instance]},
        )
    opened = wait_for_results(redis_client, 2)
    assert [r.status for r in opened] == ["filled", "filled"], opened
    with serving(redis_url, config_db=tmp_path / "eaflow.duckdb") as served:
        served.add_source(name="ops", secret=ADMIN_SECRET, admin=True)
        with signed_in(served) as admin:
            sent = admin.post("/console/api/close_all", json={"all": True, "symbol": "EURUSD"})
            assert sent.status_code == 200, sent.text
    assert sent.json()["instances"] == ["demo-1", "demo-2", "demo-3"]
    done = result_of(redis_client, sent.json()["signal_id"], 3)
    assert [(r.instance, r.status, r.field) for r in done] == [
        ("demo-1", "closed", None),
        ("demo-2", "closed", None),
        ("demo-3", "rejected", "ticket"),  # nothing of EURUSD to close there
    ]
    assert [positions(redis_url, n) for n in (1, 2, 3)] == [(), (), ()]
    assert len(results(redis_client)) == 5


def test_a_trade_names_the_signals_symbol_so_the_router_maps_it_as_an_alerts(
    console: Served, admin: httpx.Client
) -> None:
    """demo-2's broker names EURUSD `EURUSD.m` (`symbol_suffix`): the console's close says
    EURUSD, as an alert would, so the router's mapping and `allowed_symbols` apply once; a
    broker name nothing maps back to exactly goes as it is."""
    config = TradingConfig(symbol_suffix=".m", allowed_symbols=("EURUSD",))
    spec = InstanceSpec(instance_id="demo-2", login=5_000_002, groups=("eu",), config=config)
    console.client.hset(KEYS.instances, "demo-2", spec.model_dump_json())
    eurusd = default_symbols().get("EURUSD")
    assert eurusd is not None
    suffixed = eurusd._replace(name="EURUSD.m")
    console.client.hset(KEYS.symbols("demo-2"), "EURUSD.m", orjson.dumps(suffixed._asdict()))
    held = snapshot("demo-2", 2)
    moved = [p.model_copy(update={"symbol": "EURUSD.m"}) for p in held.positions]
    console.client.set(
        KEYS.state("demo-2"), held.model_copy(update={"positions": tuple(moved)}).model_dump_json()
    )
    assert admin.post("/console/api/close", json={"instance": "demo-2", "ticket": 1001}).is_success
    console.client.hdel(KEYS.symbols("demo-2"), "EURUSD.m")  # its broker's list unknown
    assert admin.post("/console/api/close", json={"instance": "demo-2", "ticket": 1000}).is_success
    sent = [Signal.model_validate(s) for s in console.signals()]
    assert [(s.ticket, s.symbol) for s in sent] == [(1001, "EURUSD"), (1000, "EURUSD.m")]


def test_an_action_another_sites_page_makes_with_the_admins_cookie_is_refused(
    console: Served, admin: httpx.Client
) -> None:
    """SameSite=Strict keeps the cookie from other sites, not from another port or
    subdomain of this one: the browser's Sec-Fetch-Site tells, and pages cannot set it."""
    body = {"instance": "demo-2", "ticket": 1001}
    for site in ("cross-site", "same-site"):
        answer = admin.post("/console/api/close", json=body, headers={"Sec-Fetch-Site": site})
        assert answer.status_code == 403, answer.text
        assert answer.json()["detail"]["field"] == "origin"
        assert site in answer.json()["detail"]["error"]
    assert console.signals() == []
    assert console.security_events()[-1]["field"] == "origin"
    mine = admin.post("/console/api/close", json=body, headers={"Sec-Fetch-Site": "same-origin"})
    assert mine.status_code == 200, mine.text
    assert len(console.signals()) == 1
