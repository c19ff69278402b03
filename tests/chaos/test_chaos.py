"""Thousands of signals through worker processes that we SIGKILL, a Redis we kill and restart
and broker links we cut: every accepted signal still ends in exactly one result, once in
DuckDB, with exactly one execution on its account, each instance's orders in the order
they were sent, and nothing left pending. `test_chaos_with_failover` runs the same on a
primary, a replica and three Sentinels, failing over instead of restarting Redis.

Replay a run with EAFLOW_CHAOS_SEED=<seed>; scale it with EAFLOW_CHAOS_SCALE; append its
figures to a file with EAFLOW_CHAOS_RECORD=docs/reliability.json.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from model import OrderStatus
from processors.executor.agent import ExecutorConfig
from sinks.database import database_path
from tests.chaos.checks import (
    check_brokers,
    check_results,
    dead_letters,
    duckdb_result_ids,
    groups_left,
    out_of_order,
    rtrs_results,
    signals_in_rtss,
    unexplained_failures,
)
from tests.chaos.cluster import Cluster, Promoting, foreign_lines, log_events
from tests.chaos.drive import (
    PREFIX,
    Chaos,
    quiesce,
    seed_instances,
    start_workers,
    wait_for_executors,
    with_redis,
)
from tests.chaos.schedule import ChaosConfig, Schedule
from tests.chaos.signals import Sender, expected_status, make_signals
from tests.redis_server import RedisServer
from tests.sentinel import Replicated

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.timeout(900)]
RECOVERY = (
    "agent.claimed",  # a dead worker's entries taken over
    "agent.lease_taken",  # a dead router's or executor's streams taken over
    "sent_order_recovered",  # executed before a crash, result written by reconciliation
    "duplicate_order_skipped",  # redelivered order already finished: not sent again
    "agent.handler_failed",  # a delivery that failed and was retried
    "agent.handler_redis_unavailable",  # a handler that lost Redis: retried, not counted
    "agent.redis_unavailable",  # a worker waiting for Redis
    "install_waiting",  # a worker started while Redis was away
    "broker_unavailable",  # an order waiting for its broker link
)


def test_chaos(chaos_config: ChaosConfig, aof_redis: RedisServer, tmp_path: Path) -> None:
    run_chaos(chaos_config, aof_redis, tmp_path)


def test_chaos_with_failover(chaos_config: ChaosConfig, tmp_path: Path) -> None:
    """The same run on a primary, a replica and three Sentinels, the workers given the
    Sentinel URL: instead of a Redis restart, the primary is SIGKILLed, the replica
    promoted and the old primary started again as its replica (decision 0019)."""
    replicated = Replicated(tmp_path / "redis").start()
    try:
        run_chaos(chaos_config, Promoting(replicated), tmp_path)
    finally:
        replicated.stop()


def run_chaos(config: ChaosConfig, server: RedisServer | Promoting, tmp_path: Path) -> None:
    """One run on `server`, judged by every check of the module's docstring. A failover
    may lose what the old primary had not replicated: a signal whose `rtss` entry is gone
    has no result to give (`eaflow send` does not wait for replicas), and is counted apart;
    every other must still end in exactly one result."""
    failover = isinstance(server, Promoting)
    data_dir = tmp_path / "data"
    env = {
        "EAFLOW_DATA_DIR": str(data_dir),
        "EAFLOW_CLAIM_IDLE_MS": "1500",  # a dead worker's entries move on after 1.5 s
        "EAFLOW_CLAIM_INTERVAL_MS": "500",
        "EAFLOW_SPAWN": "",
    }
    logins = seed_instances(server.url, config.instances)
    instances = sorted(logins)
    signals = make_signals(config.seed, config.signals, instances)
    # order ids are scoped to their source: results name them `chaos/c…`
    expected = {f"{s['source']}/{s['order_id']}": expected_status(s) for s in signals}
    executed = [k for k, status in expected.items() if status is not OrderStatus.REJECTED]
    sent_order = {order_id: n for n, order_id in enumerate(executed)}
    cluster = Cluster(tmp_path, server, env)
    start_workers(cluster, instances)
    wait_for_executors(cluster, instances)
    schedule = Schedule(config, sorted(cluster.members), sorted(logins.values()))
    sender = Sender(server.url, signals, config.batch, config.send_pause, tmp_path / "send.log")
    chaos = Chaos(config, cluster, schedule, sender)
    try:
        chaos.run(expected=len(signals), max_seconds=420)
        sender.stop()
        quiesce(cluster, len(signals), timeout=180, timeline=chaos.timeline)
        left = with_redis(cluster, lambda c: groups_left(c, PREFIX))
        results = with_redis(cluster, lambda c: rtrs_results(c, PREFIX))
        dlq = with_redis(cluster, lambda c: dead_letters(c, PREFIX))
        received = with_redis(cluster, lambda c: signals_in_rtss(c, PREFIX))
    finally:
        chaos.restore()
        sender.stop()
        exits = cluster.stop_all()
    timeline = chaos.timeline
    timeline.note("workers stopped")
    results_check = check_results(results, expected)
    late = out_of_order(results, sent_order)
    # Lost with a failed primary before its replica had them: never in `rtss` at all.
    gone = [o for o in results_check.lost if o not in received] if failover else []
    results_check.lost = [o for o in results_check.lost if o not in gone]
    # The workers run with the executor's default TTL (the env above does not change it).
    ttl = ExecutorConfig().order_ttl
    broker_failures = unexplained_failures(
        results_check.broker_away, logins, timeline.outages, ttl, timeline.wall_started
    )
    stored = duckdb_result_ids(database_path(data_dir))
    brokers = with_redis(cluster, lambda c: check_brokers(c, PREFIX, logins, results))
    crash_output = {n: foreign_lines(m.worker.log) for n, m in cluster.members.items()}
    crash_output = {n: lines[:20] for n, lines in crash_output.items() if lines}
    rtrs_ids = {r.result_id for r in results}

    figures = {
        "seed": config.seed,
        "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "seconds": round(time.monotonic() - timeline.started, 1),
        "instances": config.instances,
        "signals": len(signals),
        "sends": sender.sends,
        "failed_sends_resent": sender.failed_sends,
        "batches_sent_twice": sender.repeated,
        "kills": dict(cluster.kills),
        "kills_total": sum(cluster.kills.values()),
        "redis": "failover" if failover else "restart",
        "redis_restarts": cluster.redis_restarts,
        "signals_lost_in_failover": len(gone),
        "broker_drops": timeline.broker_drops,
        "results": len(results),
        "results_by_status": dict(results_check.by_status),
        "failed_broker_away": len(results_check.broker_away),
        "failed_broker_reachable": len(broker_failures),
        "unexpected_outcomes": len(results_check.unexpected),
        "duckdb_rows": sum(stored.values()),
        "deals": brokers.deals,
        "pending_orders": brokers.pending_orders,
        "duplicates": len(results_check.duplicated)
        + len(brokers.duplicates)
        + len(brokers.unexplained),
        "lost": len(results_check.lost),
        "out_of_order": sum(len(v) for v in late.values()),
        "dead_letters": sum(dlq.values()),
        "left_pending": sum(p + lag for p, lag in left.values()),
        "unexpected_deaths": len(cluster.deaths),
        "recovery": log_events([m.worker.log for m in cluster.members.values()], RECOVERY),
    }
    shown = orjson.dumps(figures, option=orjson.OPT_INDENT_2)
    print(shown.decode())
    (tmp_path / "figures.json").write_bytes(shown)
    (tmp_path / "timeline.txt").write_text("\n".join(timeline.events) + "\n")
    record(figures)

    where = f"(seed {config.seed}; replay with EAFLOW_CHAOS_SEED={config.seed})"
    assert sender.error is None, f"sender failed {where}: {sender.error!r}"
    assert not cluster.deaths, f"workers died on their own {where}: {cluster.deaths}"
    assert set(exits.values()) == {0}, f"graceful stops failed {where}: {exits}"
    assert not crash_output, f"crash output in worker logs {where}: {crash_output}"
    assert not results_check.lost, f"{len(results_check.lost)} signals lost {where}"
    assert not results_check.duplicated, f"duplicate results {where}: {results_check.duplicated}"
    assert not results_check.strangers, f"results nobody asked for {where}"
    assert not late, f"orders executed out of their instance's order {where}: {late}"
    unexpected = dict(list(results_check.unexpected.items())[:20])
    assert not unexpected, f"signals that ended otherwise than expected {where}: {unexpected}"
    # A `broker` failure is the one outcome a kind of signal does not call for that the
    # faults may cause: an unsent order whose account's link was cut (or Redis restarting)
    # when its TTL had run out. Any other is an order failed for a reachable broker.
    reachable = dict(list(broker_failures.items())[:20])
    assert not reachable, (
        f"{len(broker_failures)} of {len(results_check.broker_away)} orders failed for a "
        f"reachable broker {where}: {reachable}"
    )
    assert not brokers.duplicates, f"orders executed twice {where}: {brokers.duplicates}"
    assert not brokers.unexplained, f"executions without an order {where}: {brokers.unexplained}"
    assert not brokers.mismatched, f"results disagree with the broker {where}: {brokers.mismatched}"
    assert set(stored) == rtrs_ids and set(stored.values()) == {1}, f"DuckDB differs {where}"
    assert not left, f"groups with work left {where}: {left}"
    assert not dlq, f"dead letters {where}: {dlq}"
    assert cluster.redis_restarts == config.redis_restarts, (
        f"{cluster.redis_restarts} Redis restarts of {config.redis_restarts} scheduled {where}"
    )
    assert sum(cluster.kills.values()) > 0, f"no worker was killed {where}"
    assert timeline.broker_drops > 0, f"no broker link was cut {where}"


def record(figures: dict[str, object]) -> None:
    """Append the run's figures to EAFLOW_CHAOS_RECORD, if set."""
    target = os.environ.get("EAFLOW_CHAOS_RECORD")
    if not target:
        return
    path = Path(target)
    runs = orjson.loads(path.read_bytes()) if path.exists() else []
    runs.append(figures)
    path.write_bytes(orjson.dumps(runs, option=orjson.OPT_INDENT_2) + b"\n")
