"""What a chaos run must leave behind, read from rtrs, DuckDB, the simulator and the groups."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import orjson
import redis

from brokers.mt5.requests import order_comment
from brokers.sim.terminal import SimTerminal
from model import OrderStatus, Result
from streams.reader import stream_id

EXECUTED = {OrderStatus.FILLED: "deal", OrderStatus.PLACED: "order"}
OUTAGE_SLACK = 5.0
"""Seconds after an outage in which a broker failure still counts as caused by it: the
executor judges the order when its last try found the broker away, and builds the result
moments later, or later still on a starved machine."""


def rtrs_results(client: redis.Redis, prefix: str, page: int = 2000) -> list[Result]:
    """Every result in `rtrs`, oldest first, read page by page."""
    found: list[Result] = []
    start = "-"
    while True:
        entries: Any = client.xrange(f"{prefix}rtrs", min=start, max="+", count=page)
        found += [Result.model_validate_json(fields[b"d"]) for _, fields in entries]
        if len(entries) < page:
            return found
        start = "(" + entries[-1][0].decode()


def signals_in_rtss(client: redis.Redis, prefix: str, page: int = 2000) -> set[str]:
    """`{source}/{order_id}` of every signal in `rtss` (the order ids results carry)."""
    found: set[str] = set()
    start = "-"
    while True:
        entries: Any = client.xrange(f"{prefix}rtss", min=start, max="+", count=page)
        for _, fields in entries:
            body = orjson.loads(fields[b"d"])
            for signal in body if isinstance(body, list) else [body]:
                found.add(f"{signal.get('source', 'api')}/{signal.get('order_id')}")
        if len(entries) < page:
            return found
        start = "(" + entries[-1][0].decode()


@dataclass
class ResultCheck:
    """Results against the signals accepted: one each, no more, no fewer."""

    by_status: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)  # order ids without a result
    duplicated: dict[str, int] = field(default_factory=dict)  # result id → entries in rtrs
    strangers: list[str] = field(default_factory=list)  # results of orders nobody sent
    broker_away: list[Result] = field(default_factory=list)  # failed naming the `broker`
    unexpected: dict[str, str] = field(default_factory=dict)  # order id → what it got instead


def check_results(results: list[Result], expected: Mapping[str, OrderStatus]) -> ResultCheck:
    """`expected`: order id → the status its signal ends in when nothing breaks."""
    check = ResultCheck()
    counts = Counter(r.result_id for r in results)
    check.duplicated = {rid: n for rid, n in counts.items() if n > 1}
    seen = {r.order_id for r in results}
    check.lost = sorted(set(expected) - seen)
    check.strangers = sorted(seen - set(expected))
    latest = {r.result_id: r for r in results}
    check.by_status = Counter(r.status.value for r in latest.values())
    for r in latest.values():
        if r.status is OrderStatus.FAILED and r.field == "broker":
            check.broker_away.append(r)
        elif r.order_id in expected and r.status is not expected[r.order_id]:
            check.unexpected[r.order_id] = f"{r.status.value}: {r.error}"
    return check


def out_of_order(results: list[Result], sent: Mapping[str, int]) -> dict[str, list[str]]:
    """instance → order ids executed after an order sent later to the same instance.

    `sent`: order id → its position in the sending order, for the orders the executor
    finishes (those the router rejects get their result from the router, at once, ahead of
    earlier orders still queued for their instance). An order's first result counts: a
    signal sent twice gets its one result the first time.
    """
    seen: set[str] = set()
    latest: dict[str, tuple[int, str]] = {}  # instance → (position, order id) of its latest
    late: dict[str, list[str]] = {}
    for result in results:
        position = sent.get(result.order_id)
        if position is None or result.order_id in seen:
            continue
        seen.add(result.order_id)
        before = latest.get(result.instance)
        if before is not None and before[0] > position:
            late.setdefault(result.instance, []).append(f"{result.order_id} after {before[1]}")
            continue
        latest[result.instance] = (position, result.order_id)
    return late


@dataclass
class Outage:
    """A time when brokers were away, on the wall clock like a result's `done_at`: one
    account's link cut (`login`), or Redis restarting (`login` None), which takes every
    simulated account with it. `end` is infinite while the outage lasts."""

    login: int | None
    start: float
    end: float = math.inf

    def covers(self, login: int, when: float, slack: float = OUTAGE_SLACK) -> bool:
        return self.login in (None, login) and self.start <= when <= self.end + slack


def unexplained_failures(
    failed: list[Result],
    logins: Mapping[str, int],
    outages: list[Outage],
    ttl: float,
    origin: float,
) -> dict[str, str]:
    """Order id → why its `broker` failure is not one the fault schedule accounts for.

    The executor fails an order naming the `broker` only when it is unsent, its last try
    found the broker away and it was routed more than `ttl` seconds before; otherwise it
    waits for the broker. So each such failure must lie in an outage of its own account
    (or of Redis) and come at least `ttl` after its routing. `origin`: the run's start on
    the wall clock, to say when."""
    why = {}
    for r in failed:
        login = logins.get(r.instance)
        age = r.done_at - r.routed_at if r.routed_at is not None else None
        at = f"at {r.done_at - origin:.2f}s"
        if login is None:
            why[r.order_id] = f"{r.instance}: not an instance of the run"
        elif age is None or age < ttl:
            routed = "no routing time" if age is None else f"{age:.1f}s after its routing"
            why[r.order_id] = f"{r.instance} {at}: {routed}, within its {ttl:g}s TTL: {r.error}"
        elif not any(o.covers(login, r.done_at) for o in outages):
            why[r.order_id] = (
                f"{r.instance} {at}: its broker was reachable (no cut of login {login} nor "
                f"Redis restart within {OUTAGE_SLACK:g}s): {r.error}"
            )
    return why


def duckdb_result_ids(path: Path) -> Counter[str]:
    """result_id → rows in the sink's `results` table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute("SELECT result_id, count(*) FROM results GROUP BY result_id").fetchall()
    finally:
        con.close()
    return Counter({str(rid): int(n) for rid, n in rows})


@dataclass
class BrokerCheck:
    """What the simulated accounts hold against the results: each filled order one deal,
    each placed order one pending order, nothing for refused ones, nothing unexplained."""

    deals: int = 0
    pending_orders: int = 0
    duplicates: dict[str, int] = field(default_factory=dict)  # order id → executions
    mismatched: dict[str, str] = field(default_factory=dict)  # order id → what disagrees
    unexplained: list[str] = field(default_factory=list)  # our comments that match no order


def check_brokers(
    client: redis.Redis, prefix: str, logins: Mapping[str, int], results: list[Result]
) -> BrokerCheck:
    check = BrokerCheck()
    latest = {r.result_id: r for r in results}
    for instance, login in logins.items():
        mine = {
            order_comment(r.order_id, instance): r
            for r in latest.values()
            if r.instance == instance
        }
        deals, orders = account_comments(client, prefix, login)
        check.deals += sum(deals.values())
        check.pending_orders += sum(orders.values())
        for comment in (set(deals) | set(orders)) - set(mine):
            check.unexplained.append(f"{instance}:{comment}")
        for comment, result in mine.items():
            executions = deals[comment] + orders[comment]
            if executions > 1:
                check.duplicates[result.order_id] = executions
            expected = EXECUTED.get(result.status)
            held = "deal" if deals[comment] else "order" if orders[comment] else None
            if executions <= 1 and held != expected:
                check.mismatched[result.order_id] = f"result {result.status}, broker has {held}"
    return check


def account_comments(
    client: redis.Redis, prefix: str, login: int
) -> tuple[Counter[str], Counter[str]]:
    """Our comments (`ea:...`) on one account: on its deals, and on its pending orders."""
    terminal = SimTerminal(client, prefix=prefix)
    if not terminal.initialize(login=login, server="eaflow-sim"):
        raise AssertionError(f"sim account {login}: {terminal.last_error()}")
    now = datetime.now(UTC)
    deals = terminal.history_deals_get(now - timedelta(days=1), now + timedelta(days=1)) or ()
    orders = terminal.orders_get() or ()
    return (
        Counter(d.comment for d in deals if d.comment.startswith("ea:")),
        Counter(o.comment for o in orders if o.comment.startswith("ea:")),
    )


def groups_left(client: redis.Redis, prefix: str) -> dict[str, tuple[int, int]]:
    """`stream/group` → (pending, undelivered) for every group that still has work.

    Undelivered is judged by ids (the newest entry after the last delivered one), not by
    XINFO's `lag`, which Redis 7.0 may leave stale after restarts from the AOF.
    """
    left = {}
    for key in streams(client, prefix):
        newest: Any = client.xrevrange(key, count=1)
        for info in client.xinfo_groups(key):
            delivered = stream_id(info["last-delivered-id"].decode())
            behind = bool(newest) and stream_id(newest[0][0].decode()) > delivered
            pending = int(info["pending"])
            if pending or behind:
                left[f"{key}/{info['name'].decode()}"] = (pending, int(info.get("lag") or 1))
    return left


def dead_letters(client: redis.Redis, prefix: str) -> dict[str, int]:
    return {key: int(client.xlen(key)) for key in streams(client, f"{prefix}dlq:")}


def streams(client: redis.Redis, prefix: str) -> Iterator[str]:
    for key in sorted(client.scan_iter(match=f"{prefix}*", _type="stream")):
        yield key.decode()
