"""The crash test: an orders worker SIGKILLed after order_send, before its ack, then restarted.

On a real terminal (`mt5://`, here the simulator served over mt5linux) the trade server
executed the order; the worker recorded it `sent` and died before writing the result. On
restart, reconciliation finds the order on the terminal by its comment and writes its one
result; the redelivered stream entry is then skipped, so nothing new is placed. On a
simulated account its executor holds (`sim://`) the trade was in memory only: it commits
with the result, so the kill left no trace, and the restarted worker trades it once.

The doomed worker runs through `kill_after_send.py`, which arms the fault in its own process:
eaflow has no fault hook that a production setting could reach.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from brokers.mt5.requests import order_comment
from model import InstanceSpec, Order, OrderStatus
from model.keys import Keys
from tests.brokers.mt5.test_linux import Mt5LinuxServer
from tests.e2e.conftest import PREFIX, results, seed, terminal, wait_for_results, write_market
from tests.e2e.conftest import workers as workers  # the e2e worker processes fixture
from tests.e2e.workers import Worker

pytestmark = pytest.mark.chaos

STREAM = f"{PREFIX}orders:demo-1"
KILL_AFTER_SEND = Path(__file__).with_name("kill_after_send.py")


def wait(
    condition: Callable[[], bool], what: str, worker: Worker | None = None, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None and not worker.alive:
            raise AssertionError(f"the worker died while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout}s")
        time.sleep(0.05)


def has_executor_group(client: redis.Redis) -> bool:
    groups = client.xinfo_groups(STREAM) if client.exists(STREAM) else []
    return any(g["name"] == b"executor" for g in groups)


def pending(client: redis.Redis) -> int:
    return int(client.xpending(STREAM, "executor")["pending"])


@pytest.mark.parametrize("scheme", ["sim", "mt5"])
def test_a_worker_killed_after_order_send_recovers_without_trading_twice(
    redis_url: str,
    redis_client: redis.Redis,
    workers: Callable[..., Worker],
    tmp_path: Path,
    scheme: str,
) -> None:
    (instance,) = seed(redis_url, 1)
    write_market(redis_client)
    linux = Mt5LinuxServer(redis_url).start() if scheme == "mt5" else None
    if linux is not None:
        on_terminal(redis_client, instance, f"mt5://127.0.0.1:{linux.port}")
    env = {
        "EAFLOW_DATA_DIR": str(tmp_path),
        "EAFLOW_CLAIM_IDLE_MS": "500",
        "EAFLOW_CLAIM_INTERVAL_MS": "200",
    }
    try:
        doomed = workers("orders", env=env, name="doomed", program=(str(KILL_AFTER_SEND),))
        wait(lambda: has_executor_group(redis_client), "executor group", doomed)
        sim = terminal(redis_url, 1)
        magic = sim.account_info().login % 1_000_000  # type: ignore[union-attr]  # seed_demo's
        now = time.time()
        order = Order.model_validate(
            {
                "order_id": "crash-1",
                "signal_id": "signal-crash-1",
                "instance": instance,
                "action": "open",
                "symbol": "EURUSD",
                "order_type": "buy",
                "volume": "0.10",
                "magic": magic,
                "received_at": now,
                "routed_at": now,
            }
        )
        redis_client.xadd(STREAM, {"d": order.model_dump_json()})

        assert doomed.process is not None and doomed.process.wait(timeout=60) == -9  # SIGKILL
        comment = order_comment(order.order_id, instance)
        assert results(redis_client) == [] and pending(redis_client) == 1
        if scheme == "mt5":  # executed by the trade server, recorded sent, no result
            (position,) = sim.positions_get() or ()
            assert (position.comment, position.magic, position.volume) == (comment, magic, 0.1)
            assert redis_client.hget(f"{PREFIX}orec:{instance}", "crash-1") == b"sent"
        else:  # in memory only: nothing of it anywhere
            assert sim.positions_get() == ()
            assert redis_client.hget(f"{PREFIX}orec:{instance}", "crash-1") is None

        restarted = workers("orders", env=env, name="restarted")
        (result,) = wait_for_results(redis_client, 1)
        wait(lambda: pending(redis_client) == 0, "ack of the redelivered order", restarted, 90)
        restarted.stop()
    finally:
        if linux is not None:
            linux.stop()

    assert (result.order_id, result.status, result.retcode) == (
        "crash-1",
        OrderStatus.FILLED,
        10009,
    )
    (position,) = sim.positions_get() or ()  # exactly one position: nothing traded twice
    assert result.position_ticket == position.ticket and result.sent_at is not None
    assert (position.comment, position.magic, position.volume) == (comment, magic, 0.1)
    assert results(redis_client) == [result]  # the signal has exactly one result
    day = timedelta(days=1)
    deals = sim.history_deals_get(datetime.now(UTC) - day, datetime.now(UTC) + day) or ()
    assert [d.position_id for d in deals if d.comment == comment] == [position.ticket]
    assert redis_client.hget(f"{PREFIX}orec:{instance}", "crash-1") == b"filled"
    assert redis_client.hlen(f"{PREFIX}osent:{instance}") == 0
    if scheme == "mt5":
        log = restarted.log.read_text()
        assert log.index("sent_order_recovered") < log.index("duplicate_order_skipped")


def on_terminal(client: redis.Redis, instance: str, broker: str) -> None:
    """Move the instance to another broker URL, as `eaflow config set` publishes it."""
    registry = Keys(PREFIX)
    spec = InstanceSpec.model_validate_json(client.hget(registry.instances, instance) or b"")
    client.hset(
        registry.instances, instance, spec.model_copy(update={"broker": broker}).model_dump_json()
    )
    client.set(registry.instances_rev, f"moved-{instance}")
