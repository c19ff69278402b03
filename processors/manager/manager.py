"""The instance manager: every 500 ms, pull the configuration, step each instance, sync
state, report to `ris`.

Simulated instances run as slots in this process; instances whose broker needs its own
process (MT5) run as child workers, restarted when they die. One pipelined write per cycle
carries every hosted instance's state, reports and applied configuration version.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlparse

import structlog

from model import AccountState, InstanceReport, InstanceSpec, InstanceStatus, ReportKind
from model.keys import Keys
from processors.manager import metrics
from processors.manager.children import Child
from processors.manager.config import ManagerConfig
from processors.manager.simbulk import Answer, SimAccounts
from processors.manager.slot import Slot
from processors.manager.state_sync import NETWORK_ERRORS, StateSync
from processors.manager.trades import Changes, TradeTracker
from processors.registry import InstanceRegistry
from streams.reader import text
from streams.types import Command

log = structlog.get_logger(__name__)

STOPPED = b"stopped"


class InstanceManager:
    """Supervises `slots` (in this process) and `children` (one process each)."""

    def __init__(
        self,
        registry: InstanceRegistry,
        sync: StateSync,
        slots: Mapping[str, Slot],
        children: Mapping[str, Child] | None = None,
        config: ManagerConfig | None = None,
        on_pull: Callable[[], Awaitable[None]] | None = None,
        owns_redis: bool = False,
        bulk: SimAccounts | None = None,
    ) -> None:
        self.registry = registry
        self.sync = sync
        self.slots = dict(slots)
        self.children = dict(children or {})
        self.config = config or ManagerConfig()
        self.on_pull = on_pull  # e.g. the executor's refresh, which reads the same cache
        self.owns_redis = owns_redis  # close the registry's client when the manager stops
        self.bulk = bulk  # reads every simulated instance's account in one round trip
        self._gauges: dict[str, metrics.InstanceGauges] = {}
        self.cycles = 0
        self._stopped: set[str] = set()
        self._restarts: dict[str, float] = {}
        self._applied: dict[str, int] = {}  # versions written to `config:applied`
        self._refused: dict[str, str] = {}  # config errors already reported
        self._beat: dict[str, float] = {}
        self._summarized = 0.0
        self.trades = TradeTracker(sync.redis, sync.topics, self.config.call_timeout)

    @property
    def prefix(self) -> str:
        return self.registry.prefix

    async def run(self) -> None:
        """Cycle until cancelled (the app's task); drift-free, missed beats are skipped; a
        failed cycle is logged and the next one runs as usual."""
        start = time.monotonic()
        try:
            while True:
                try:
                    await self.cycle()
                except Exception as error:  # e.g. NOPERM from an ACL: log, never stop
                    log.exception("manager_cycle_failed", error=str(error))
                if self.cycles == 1:
                    # Sessions, threads and symbol tables of every instance live as long as
                    # the process: keep full collections from walking them every few
                    # seconds (a collection over 1,000 instances pauses ~400 ms).
                    gc.freeze()
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise asyncio.CancelledError  # a library swallowed the stop: stop anyway
                elapsed = time.monotonic() - start
                beats = int(elapsed / self.config.interval) + 1
                await asyncio.sleep(beats * self.config.interval - elapsed)
        finally:
            gc.unfreeze()
            await self.close()

    async def cycle(self) -> None:
        self.cycles += 1
        began = time.time()
        specs = await self._pull()
        reports = self._config_changes(specs)
        bulk = await self._read_in_bulk()
        waiting = []  # slots that ask their own broker: concurrently
        for i, slot in self.slots.items():
            wanted, restart = i not in self._stopped, self._restarts.get(i, 0.0)
            answer = bulk.get(i)
            if answer is None:
                waiting.append(slot.step(wanted, restart))
            else:  # read in bulk: nothing to wait for
                reports += await slot.step(wanted, restart, answer)
        for found in await asyncio.gather(*waiting):
            reports += found
        for child in self.children.values():
            reports += await child.step()
        reports += self._heartbeats(began)
        states = [
            s.state
            for s in self.slots.values()
            if s.status is InstanceStatus.RUNNING and s.state is not None and s.state.ts >= began
        ]
        was_enabled = self.sync.enabled
        trades = await self._trade_changes(states)
        commands = [*self._applied_commands(), *trades.commands]
        if await self.sync.publish(states, self._shown(reports), commands):
            self.trades.commit(trades)
        self._transitions(was_enabled)
        self._observe(reports)
        if began - self._summarized >= self.config.summary:
            self._summarized = began
            self._summarize()

    async def _trade_changes(self, states: list[AccountState]) -> Changes:
        """The trades that opened, changed or closed since the last poll (not while Redis is
        unreachable: the books compared with live there)."""
        if not self.sync.enabled:
            return Changes()
        brokers = {i: s.session for i, s in self.slots.items() if s.session is not None}
        return await self.trades.changes(states, brokers)

    async def _read_in_bulk(self) -> dict[str, Answer]:
        """The running simulated instances' states in one round trip (see simbulk)."""
        if self.bulk is None:
            return {}
        logins = {
            i: s.spec.login
            for i, s in self.slots.items()
            if s.status is InstanceStatus.RUNNING and urlparse(s.spec.broker).scheme == "sim"
        }
        if not logins:
            return {}
        try:
            return await self.bulk.read(logins)
        except Exception as error:  # the simulator's Redis is down: every one is unreachable
            return dict.fromkeys(logins, error)

    async def _pull(self) -> dict[str, InstanceSpec]:
        """The specs and the operators' wishes; nothing new while Redis is unreachable."""
        if not self.sync.enabled:
            return {}
        try:
            specs = await self.registry.all()
            pipe = self.registry.redis.pipeline(transaction=False)
            pipe.hgetall(Keys(self.prefix).instances_desired)
            pipe.hgetall(Keys(self.prefix).instances_restart)
            desired, restarts = await pipe.execute()
            if self.on_pull is not None:
                await self.on_pull()
        except NETWORK_ERRORS as error:
            log.warning("config_pull_failed", error=str(error))
            return {}
        self._stopped = {text(k) for k, v in desired.items() if v == STOPPED}
        self._restarts = {text(k): float(v) for k, v in restarts.items()}
        return specs

    def _config_changes(self, specs: Mapping[str, InstanceSpec]) -> list[InstanceReport]:
        """Apply new specs; a spec that failed validation keeps the old one and is reported."""
        reports: list[InstanceReport] = []
        holders: list[tuple[str, Slot | Child]] = [*self.slots.items(), *self.children.items()]
        for instance, holder in holders:
            spec = specs.get(instance)
            if spec is not None and spec != holder.spec:
                if spec.config_version != holder.spec.config_version:
                    log.info("config_applied", instance=instance, version=spec.config_version)
                holder.spec = spec
            error = self.registry.errors.get(instance)
            if error is not None and self._refused.get(instance) != error:
                log.error(
                    "config_refused",
                    instance=instance,
                    error=error,
                    version_kept=holder.spec.config_version,
                )
                reports.append(
                    InstanceReport(
                        instance=instance,
                        kind=ReportKind.CONFIG_REFUSED,
                        status=holder.status,
                        config_version=holder.spec.config_version,
                        error=error,
                    )
                )
            if error is None:
                self._refused.pop(instance, None)
            else:
                self._refused[instance] = error
        return reports

    def _heartbeats(self, now: float) -> list[InstanceReport]:
        """Heartbeats of the instances due; first ones are spread over a heartbeat interval,
        so a thousand instances do not all beat in the same cycle."""
        if not self._beat:
            spread = self.config.heartbeat / max(1, len(self.slots))
            self._beat = {
                i: now - self.config.heartbeat + n * spread for n, i in enumerate(self.slots)
            }
        due = [
            s
            for i, s in self.slots.items()
            if now - self._beat.get(i, 0.0) >= self.config.heartbeat
        ]
        for slot in due:
            self._beat[slot.instance] = now
        return [s.report(ReportKind.HEARTBEAT) for s in due]

    def _shown(self, reports: list[InstanceReport]) -> list[InstanceReport]:
        """While Redis is unreachable, running instances show as sync-disabled."""
        if self.sync.enabled:
            return reports
        return [
            r.model_copy(update={"status": InstanceStatus.SYNC_DISABLED})
            if r.status is InstanceStatus.RUNNING
            else r
            for r in reports
        ]

    def _applied_commands(self) -> list[Command]:
        """HSET `config:applied` for versions not written yet (all again after an outage)."""
        changed = {
            i: s.spec.config_version
            for i, s in self.slots.items()
            if self._applied.get(i) != s.spec.config_version
        }
        if not changed or not self.sync.enabled:
            return []
        self._applied.update(changed)
        args: list[str | int] = []
        for instance, version in changed.items():
            args += [instance, version]
        return [("HSET", self.registry.keys.config_applied, *args)]

    def _transitions(self, was_enabled: bool) -> None:
        if was_enabled and not self.sync.enabled:
            self._applied.clear()
            self.sync.queue(self._events(ReportKind.NETWORK_ERROR, InstanceStatus.SYNC_DISABLED))
        elif not was_enabled and self.sync.enabled:
            self._applied.clear()
            self.trades.forget()
            self._beat.clear()
            self.sync.queue(self._events(ReportKind.SYNC_RESUMED, None))

    def _events(self, kind: ReportKind, status: InstanceStatus | None) -> list[InstanceReport]:
        error = self.sync.error if kind is ReportKind.NETWORK_ERROR else None
        at = self.sync.down_since if kind is ReportKind.NETWORK_ERROR else None
        events = []
        for slot in self.slots.values():
            report = slot.report(kind, error)
            update: dict[str, object] = {"status": status or slot.status}
            if at is not None:
                update["ts"] = at
            events.append(report.model_copy(update=update))
        return events

    def _observe(self, reports: list[InstanceReport]) -> None:
        for report in reports:
            if report.kind in (ReportKind.CRASHED, ReportKind.RESTART_FAILED):
                metrics.INSTANCE_RESTARTS.labels(report.instance).inc()
        for instance, slot in self.slots.items():
            status = slot.status
            if status is InstanceStatus.RUNNING and not self.sync.enabled:
                status = InstanceStatus.SYNC_DISABLED
            state = slot.state
            gauges = self._gauges.get(instance)
            if gauges is None:
                gauges = self._gauges[instance] = metrics.InstanceGauges(instance)
            gauges.observe(
                status,
                slot.spec.config_version,
                None if state is None else state.equity,
                None if state is None else state.balance,
            )
        if self.sync.last_sync:
            metrics.SYNC_AGE.set(time.time() - min(self.sync.last_sync.values()))

    def _summarize(self) -> None:
        """One log line: how many instances are in each status, versions, total equity."""
        counts: dict[str, int] = {}
        for status in [s.status for s in self.slots.values()] + [
            c.status for c in self.children.values()
        ]:
            counts[status.value] = counts.get(status.value, 0) + 1
        equity = sum(s.state.equity for s in self.slots.values() if s.state is not None)
        versions = sorted({s.spec.config_version for s in self.slots.values()})
        log.info(
            "instances",
            **counts,
            config_versions=versions,
            equity=round(equity, 2),
            sync="enabled" if self.sync.enabled else "disabled",
        )

    async def close(self) -> None:
        await asyncio.gather(
            *(s.close() for s in self.slots.values()), *(c.close() for c in self.children.values())
        )
        if self.owns_redis:
            await self.registry.redis.aclose()
        if self.bulk is not None:
            await self.bulk.close()
