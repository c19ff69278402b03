"""One chaos run: seed accounts, start the workers, send signals while faults land, restore
everything, and wait until the pipeline has nothing left to do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import redis

from brokers.sim.server import SimServer
from model import InstanceSpec, TradingConfig
from processors.registry import InstanceRegistry
from streams.clients import async_client, sync_client
from tests.chaos.checks import Outage, groups_left
from tests.chaos.cluster import Cluster
from tests.chaos.schedule import ChaosConfig, Fault, Schedule
from tests.chaos.signals import Sender
from tests.e2e.conftest import write_market

PREFIX = "ea:"
FIRST_LOGIN = 7_000_001
T = TypeVar("T")


def seed_instances(url: str, count: int) -> dict[str, int]:
    """`acct-01`.. with a simulated account each (no open-order cap that the run would hit)."""
    logins = {f"acct-{n:02d}": FIRST_LOGIN + n for n in range(1, count + 1)}
    server = SimServer(sync_client(url), prefix=PREFIX)
    for instance, login in logins.items():
        server.open_account(login, balance=1_000_000, currency="USD", leverage=100, name=instance)
    specs = [
        InstanceSpec(
            instance_id=instance,
            broker="sim://",
            login=login,
            magic=login % 1_000_000,
            config=TradingConfig(max_open_orders=100_000),
        )
        for instance, login in logins.items()
    ]

    async def put() -> None:
        client = async_client(url)
        try:
            await InstanceRegistry(client, PREFIX).put(*specs)
        finally:
            await client.aclose()

    asyncio.run(put())
    write_market(sync_client(url))
    return logins


def start_workers(cluster: Cluster, instances: list[str]) -> None:
    """Two routers, executors split over two processes, one sink worker."""
    half = len(instances) // 2
    for name, hosted in (("executor-a", instances[:half]), ("executor-b", instances[half:])):
        extra = tuple(arg for instance in hosted for arg in ("-i", instance))
        cluster.add(name, "executor", ("orders",), extra)
    cluster.add("router-1", "router", ("rtss",))
    cluster.add("router-2", "router", ("rtss",))
    cluster.add("sinks", "sink", ("rtrs",))


def wait_for_executors(cluster: Cluster, instances: list[str], timeout: float = 120) -> None:
    """Until every instance's executor has published its symbols: the router refuses
    signals for an instance whose broker never connected ("symbol: not traded")."""
    keys = [f"{PREFIX}symbols:{instance}" for instance in instances]
    deadline = time.monotonic() + timeout
    while with_redis(cluster, lambda c: int(c.exists(*keys))) < len(keys):
        cluster.watch()
        if time.monotonic() > deadline:
            raise AssertionError(f"executors not up after {timeout}s")
        time.sleep(0.1)


@dataclass
class Timeline:
    """What the run did and when (seconds since start), printed for the record, and when
    brokers were away (on the wall clock, to hold against the results)."""

    started: float = field(default_factory=time.monotonic)
    wall_started: float = field(default_factory=time.time)
    events: list[str] = field(default_factory=list)
    broker_drops: int = 0
    outages: list[Outage] = field(default_factory=list)

    def note(self, text: str) -> None:
        line = f"{time.monotonic() - self.started:7.2f}s {text}"
        self.events.append(line)
        print(line, flush=True)


def with_redis(cluster: Cluster, work: Callable[[redis.Redis], T], wait: float = 60) -> T:
    """Run `work` on a fresh client, retrying while Redis restarts."""
    deadline = time.monotonic() + wait
    while True:
        client = cluster.client()
        try:
            return work(client)
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        finally:
            client.close()


class Chaos:
    """Applies the schedule's faults while the sender works, and undoes them in time."""

    def __init__(
        self, config: ChaosConfig, cluster: Cluster, schedule: Schedule, sender: Sender
    ) -> None:
        self.config = config
        self.cluster = cluster
        self.schedule = schedule
        self.sender = sender
        self.timeline = Timeline()
        self._undo: list[tuple[float, str, Callable[[], None]]] = []

    def run(self, expected: int, max_seconds: float) -> None:
        """Faults until every batch is sent, 90 % of the results are in and a worker has
        been killed at least once (or `max_seconds`); Redis restarts at the schedule's
        shares of the results. A run whose Redis faults took long (a failover's promotion)
        could otherwise end before its first kill was drawn."""
        redis_todo = list(self.schedule.redis_at)
        next_fault = time.monotonic() + self.schedule.gap()
        self.sender.start()
        self.timeline.note(f"sending {len(self.sender.signals)} signals")
        while time.monotonic() - self.timeline.started < max_seconds:
            self.cluster.watch()
            self._undo_due()
            now = time.monotonic()
            progress = self._results() / expected
            if redis_todo and progress >= redis_todo[0]:
                redis_todo.pop(0)
                self.timeline.note(f"{progress:.0%} of the results in")
                self._apply(self.schedule.redis_fault())
            elif now >= next_fault:
                killable = self.cluster.killable(self.config.worker_rest)
                self._apply(self.schedule.next_fault(killable))
                next_fault = now + self.schedule.gap()
            killed = sum(self.cluster.kills.values()) > 0
            if self.sender.done and not redis_todo and progress >= 0.9 and killed:
                break
            time.sleep(0.1)
        self.timeline.note("faults stop")
        self.restore()

    def restore(self) -> None:
        """Undo every fault still in force: workers back, brokers connected."""
        for _, what, undo in sorted(self._undo, key=lambda u: u[0]):
            undo()
            self.timeline.note(f"restored {what}")
        self._undo = []

    def _apply(self, fault: Fault) -> None:
        self.timeline.note(f"{fault.kind} {fault.target} for {fault.down}s")
        if fault.kind == "redis":
            outage = self._outage(None)
            self.cluster.restart_redis(fault.down)
            outage.end = time.time()
            self.timeline.note("redis back")
        elif fault.kind == "kill":
            self.cluster.kill(fault.target)
            self._later(fault, lambda: self.cluster.restart(fault.target))
        else:
            login = int(fault.target)
            cut = self._outage(login)
            with_redis(self.cluster, lambda c: SimServer(c, PREFIX).set_connected(login, False))
            self.timeline.broker_drops += 1

            def reconnect() -> None:
                with_redis(self.cluster, lambda c: SimServer(c, PREFIX).set_connected(login, True))
                cut.end = time.time()

            self._later(fault, reconnect)

    def _outage(self, login: int | None) -> Outage:
        """An outage starting now (before the fault lands), ended by whoever undoes it."""
        outage = Outage(login, time.time())
        self.timeline.outages.append(outage)
        return outage

    def _later(self, fault: Fault, undo: Callable[[], None]) -> None:
        self._undo.append((time.monotonic() + fault.down, f"{fault.kind} {fault.target}", undo))

    def _undo_due(self) -> None:
        now = time.monotonic()
        due = [u for u in self._undo if u[0] <= now]
        self._undo = [u for u in self._undo if u[0] > now]
        for _, what, undo in due:
            undo()
            self.timeline.note(f"restored {what}")

    def _results(self) -> int:
        try:
            return with_redis(self.cluster, lambda c: int(c.xlen(f"{PREFIX}rtrs")), wait=5)
        except redis.RedisError:
            return 0


def quiesce(cluster: Cluster, expected: int, timeout: float, timeline: Timeline) -> None:
    """Wait until every group has read and acked everything and nothing changes for two
    seconds (ten while rtrs holds fewer than `expected` results: a loss the checks report)."""
    deadline = time.monotonic() + timeout
    last: tuple[int, int] | None = None
    steady_since = time.monotonic()
    while time.monotonic() < deadline:
        cluster.watch()
        left = with_redis(cluster, lambda c: groups_left(c, PREFIX))
        length = with_redis(cluster, lambda c: int(c.xlen(f"{PREFIX}rtrs")))
        state = (length, len(left))
        if state != last:
            last, steady_since = state, time.monotonic()
        elif not left and time.monotonic() - steady_since >= (2 if length >= expected else 10):
            timeline.note(f"quiet: {length} results, nothing pending")
            return
        time.sleep(0.25)
    timeline.note(f"not quiet after {timeout}s: rtrs {last}")
