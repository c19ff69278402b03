"""The instance manager on real Redis servers and simulated accounts."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest

from brokers.sim.store import AccountKeys
from brokers.types import BrokerUnavailable
from model import AccountState, InstanceReport, InstanceStatus, ReportKind
from model.keys import Keys
from processors.manager import metrics
from processors.manager.stopped import StoppedBroker
from tests.processors.manager.conftest import CONFIG, PREFIX, Rig, spec

RUNNING = InstanceStatus.RUNNING


def statuses(rig: Rig) -> dict[str, InstanceStatus]:
    return {i: s.status for i, s in rig.manager.slots.items()}


async def test_instances_start_sync_state_and_report(rig: Rig) -> None:
    await rig.until(
        lambda: set(statuses(rig).values()) == {RUNNING} and len(rig.manager.sync.last_sync) == 2
    )
    raw: Any = await rig.redis.get(f"{PREFIX}state:a")
    state = AccountState.model_validate_json(raw)
    assert (state.instance, state.login, state.equity) == ("a", 6001, 10_000)
    kinds = [(r.instance, r.kind, r.status) for r in await rig.reports()]
    assert ("a", ReportKind.STATUS, InstanceStatus.STARTING) in kinds
    assert ("a", ReportKind.STATUS, RUNNING) in kinds
    assert await rig.redis.hgetall(rig.registry.keys.config_applied) == {b"a": b"1", b"b": b"1"}
    assert metrics.INSTANCE_UP.labels("b")._value.get() == 1
    assert metrics.INSTANCE_EQUITY.labels("b")._value.get() == 5_000


async def test_heartbeats_carry_equity_and_config_version(rig: Rig) -> None:
    await rig.until(lambda: set(statuses(rig).values()) == {RUNNING})
    started = time.time()
    await rig.until(lambda: time.time() - started > CONFIG.heartbeat * 2.5)
    beats = [r for r in await rig.reports() if r.kind is ReportKind.HEARTBEAT and r.instance == "a"]
    assert len(beats) >= 2
    assert beats[-1].equity == 10_000 and beats[-1].config_version == 1
    latest: Any = await rig.redis.hget(f"{PREFIX}instances:status", "a")
    assert b'"kind":"heartbeat"' in latest


async def test_a_new_configuration_applies_and_a_bad_one_is_refused(rig: Rig) -> None:
    await rig.until(lambda: set(statuses(rig).values()) == {RUNNING})
    await rig.registry.put(spec("a", 6001, version=4, max_open_orders=1))
    await rig.until(lambda: rig.manager.slots["a"].spec.config_version == 4)
    await rig.manager.cycle()
    assert rig.manager.slots["a"].spec.config.max_open_orders == 1
    assert await rig.redis.hget(rig.registry.keys.config_applied, "a") == b"4"
    assert metrics.CONFIG_VERSION_APPLIED.labels("a")._value.get() == 4
    broken = spec("a", 6001, version=5).model_dump(mode="json")
    broken["config"]["max_open_orders"] = -1
    await rig.redis.hset(rig.registry.keys.instances, "a", orjson.dumps(broken))
    await rig.redis.set(rig.registry.keys.instances_rev, "changed")
    await rig.until(lambda: "a" in rig.manager.registry.errors)
    await rig.manager.cycle()
    slot = rig.manager.slots["a"]
    assert (slot.spec.config_version, slot.spec.config.max_open_orders) == (4, 1)
    refused = [r for r in await rig.reports() if r.kind is ReportKind.CONFIG_REFUSED]
    assert [(r.instance, r.config_version) for r in refused] == [("a", 4)]
    assert refused[0].error is not None
    assert refused[0].error.startswith("config.max_open_orders: ")
    assert await rig.redis.hget(rig.registry.keys.config_applied, "a") == b"4"


async def test_operators_stop_start_and_restart_an_instance(rig: Rig) -> None:
    await rig.until(lambda: set(statuses(rig).values()) == {RUNNING})
    first = rig.sessions.opened("a")
    await rig.redis.hset(Keys(PREFIX).instances_desired, "a", "stopped")
    await rig.until(lambda: statuses(rig)["a"] is InstanceStatus.STOPPED)
    assert isinstance(rig.sessions["a"], StoppedBroker)
    with pytest.raises(BrokerUnavailable, match="instance a is stopped"):
        await rig.sessions["a"].order_send({})
    assert rig.sessions.opened("a") is None and statuses(rig)["b"] is RUNNING
    await rig.redis.hdel(Keys(PREFIX).instances_desired, "a")
    await rig.until(lambda: statuses(rig)["a"] is RUNNING)
    second = rig.sessions.opened("a")
    assert second is not first
    assert rig.sessions.get("a") is second
    await rig.redis.hset(Keys(PREFIX).instances_restart, "a", time.time())
    await rig.until(lambda: rig.manager.slots["a"].restarts == 1 and statuses(rig)["a"] is RUNNING)
    assert rig.sessions.opened("a") is not second


def kinds(reports: list[InstanceReport], instance: str) -> list[tuple[ReportKind, str]]:
    return [
        (r.kind, r.status.value)
        for r in reports
        if r.instance == instance and r.kind is not ReportKind.HEARTBEAT
    ]


async def test_a_crashed_instance_is_restarted_after_the_delay_until_it_works(rig: Rig) -> None:
    await rig.until(lambda: set(statuses(rig).values()) == {RUNNING})
    account = AccountKeys(PREFIX, 6001).account
    rig.sim.redis.hset(account, "balance", "garbage")  # the terminal now raises ValueError
    await rig.until(lambda: statuses(rig)["a"] is InstanceStatus.RESTARTING)
    # every restart fails the same way: reported, tried again after the delay
    await rig.until(lambda: rig.manager.slots["a"].restarts >= 3)
    rig.sim.redis.hset(account, "balance", "10000.0")
    await rig.until(lambda: statuses(rig)["a"] is RUNNING)
    reports = [r for r in await rig.reports() if r.instance == "a"]
    seen = kinds(reports, "a")
    crashed = seen.index((ReportKind.CRASHED, "restarting"))
    assert seen[crashed : crashed + 4] == [
        (ReportKind.CRASHED, "restarting"),
        (ReportKind.STATUS, "starting"),
        (ReportKind.RESTART_FAILED, "restarting"),
        (ReportKind.STATUS, "starting"),
    ]
    assert seen[-1] == (ReportKind.STATUS, "running")
    crash = next(r for r in reports if r.kind is ReportKind.CRASHED)
    retry = next(r for r in reports if r.kind is ReportKind.STATUS and r.ts > crash.ts)
    assert retry.ts - crash.ts >= CONFIG.restart_delay
    assert crash.error == "ValueError: could not convert string to float: 'garbage'"
    assert statuses(rig)["b"] is RUNNING
    restarts = metrics.INSTANCE_RESTARTS.labels("a")._value.get()
    assert restarts >= 3


async def test_a_lost_broker_is_degraded_and_reconnected(rig: Rig) -> None:
    await rig.until(lambda: set(statuses(rig).values()) == {RUNNING})
    account = AccountKeys(PREFIX, 6002).account
    saved: Any = rig.sim.redis.dump(account)
    rig.sim.redis.delete(account)  # the trade server no longer knows the account
    await rig.until(lambda: statuses(rig)["b"] is InstanceStatus.DEGRADED)
    lost_at = time.monotonic()
    rig.sim.redis.restore(account, 0, saved)
    await rig.until(lambda: statuses(rig)["b"] is RUNNING)
    assert time.monotonic() - lost_at >= CONFIG.reconnect_interval - 2 * CONFIG.interval
    assert kinds(await rig.reports(), "b")[-2:] == [
        (ReportKind.STATUS, "degraded"),
        (ReportKind.STATUS, "running"),
    ]
    assert rig.manager.slots["b"].restarts == 0  # reconnected, not restarted


async def test_killing_redis_disables_sync_until_it_is_back(rig: Rig) -> None:
    await rig.until(
        lambda: set(statuses(rig).values()) == {RUNNING} and len(rig.manager.sync.last_sync) == 2
    )
    rig.server.kill()
    killed_at = time.time()
    await rig.until(lambda: not rig.manager.sync.enabled)
    assert rig.manager.sync.attempts == 4
    status = metrics.INSTANCE_STATUS.labels("a", InstanceStatus.SYNC_DISABLED.value)
    assert status._value.get() == 1
    assert statuses(rig)["a"] is RUNNING  # the account itself still trades
    rig.server.start()
    restarted_at = time.time()
    await rig.until(
        lambda: rig.manager.sync.enabled and min(rig.manager.sync.last_sync.values()) > restarted_at
    )
    await rig.manager.cycle()
    reports = await rig.reports()
    errors = [r for r in reports if r.kind is ReportKind.NETWORK_ERROR]
    assert {r.instance for r in errors} == {"a", "b"}
    assert all(killed_at <= r.ts < restarted_at for r in errors)
    assert all(r.status is InstanceStatus.SYNC_DISABLED for r in errors)
    resumed = [r for r in reports if r.kind is ReportKind.SYNC_RESUMED]
    assert {r.instance for r in resumed} == {"a", "b"}
    assert await rig.redis.exists(f"{PREFIX}state:a", f"{PREFIX}state:b") == 2
    assert await rig.redis.hgetall(rig.registry.keys.config_applied) == {b"a": b"1", b"b": b"1"}
