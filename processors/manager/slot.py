"""One instance hosted in this process: its broker session, status and restarts.

`Slot.step()` runs once per manager cycle and moves the instance through its states:
starting → running; a broker that cannot be reached → degraded, reconnected every 5 s;
an unexpected error → restarting, a new session after 3 s; an operator's stop → stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import structlog

from brokers.mt5.broker import Mt5Broker
from brokers.sim.store import AccountMissing
from brokers.types import BrokerUnavailable
from model import AccountState, InstanceReport, InstanceSpec, InstanceStatus, ReportKind
from processors.manager.config import ManagerConfig
from processors.manager.simbulk import Answer
from processors.manager.state_sync import NETWORK_ERRORS, snapshot
from processors.sessions import Sessions, close_session

log = structlog.get_logger(__name__)

BrokerFactory = Callable[[InstanceSpec], Mt5Broker]
"""Builds (does not connect) a broker session for an instance."""

UNREACHABLE = (BrokerUnavailable, *NETWORK_ERRORS)
"""Errors that mean "the broker cannot be reached": the simulator's server is Redis."""


class Slot:
    """Opens, swaps and stops the instance's session in `sessions`, which the executor shares,
    so it always trades through the current one."""

    def __init__(
        self,
        spec: InstanceSpec,
        factory: BrokerFactory,
        sessions: Sessions,
        config: ManagerConfig,
    ) -> None:
        self.spec = spec
        self.factory = factory
        self.sessions = sessions
        self.config = config
        self.status = InstanceStatus.STOPPED
        self.error: str | None = None
        self.restarts = 0
        self.state: AccountState | None = None
        self.started_at = 0.0  # time.time() of the last start: restart requests before it are done
        self._next_attempt = 0.0  # monotonic time of the next start or reconnect
        self._session: Mt5Broker | None = sessions.opened(spec.instance_id)
        self._connecting: asyncio.Task[None] | None = None
        if self._session is not None:  # connected by the executor's start-up
            self.status, self.started_at = InstanceStatus.RUNNING, time.time()

    @property
    def instance(self) -> str:
        return self.spec.instance_id

    @property
    def session(self) -> Mt5Broker | None:
        """The broker session the instance runs on; None while it has none."""
        return self._session

    def report(self, kind: ReportKind, error: str | None = None) -> InstanceReport:
        state = self.state
        return InstanceReport(
            instance=self.instance,
            kind=kind,
            status=self.status,
            config_version=self.spec.config_version,
            restarts=self.restarts,
            equity=None if state is None else state.equity,
            balance=None if state is None else state.balance,
            error=error if error is not None else self.error,
        )

    async def step(
        self, wanted: bool, restart_asked: float, prefetched: Answer | None = None
    ) -> list[InstanceReport]:
        """One cycle: follow the operator's wishes, finish connects, take a snapshot (or use
        the one read in bulk for every simulated instance: `prefetched`)."""
        now = time.monotonic()
        if not wanted:
            return await self._stop() if self.status is not InstanceStatus.STOPPED else []
        if self.status is InstanceStatus.STOPPED:
            return self._start(now)
        if restart_asked > self.started_at:
            await self._stop()
            self.restarts += 1
            return self._start(now)
        if self._connecting is not None:
            return self._connected(now)
        if self.status is InstanceStatus.RESTARTING and now >= self._next_attempt:
            return self._start(now)
        if self.status is InstanceStatus.DEGRADED and now >= self._next_attempt:
            return self._reconnect(now)
        if self.status is InstanceStatus.RUNNING:
            if prefetched is not None:
                return self._take(now, prefetched)
            return await self._snapshot(now)
        return []

    def _start(self, now: float) -> list[InstanceReport]:
        """A new session; the old one keeps serving the executor until this one is up."""
        self.started_at = time.time()
        try:
            session = self.factory(self.spec)
        except Exception as error:  # a bad broker URL, a missing extra: try again later
            return self._crashed(now, ReportKind.RESTART_FAILED, error)
        self._connecting = asyncio.create_task(self._connect(session))
        return self._become(InstanceStatus.STARTING)

    def _reconnect(self, now: float) -> list[InstanceReport]:
        """Degraded: try the session again (a new one if it was never opened)."""
        try:
            session = self._session or self.factory(self.spec)
        except Exception as error:
            return self._crashed(now, ReportKind.RESTART_FAILED, error)
        self._connecting = asyncio.create_task(self._connect(session))
        return []

    async def _connect(self, session: Mt5Broker) -> None:
        try:
            await asyncio.wait_for(session.connect(), self.config.call_timeout)
        except BaseException:
            if session is not self._session:
                await close_session(session)
            raise
        self._session = session
        old = self.sessions.put(self.instance, session)
        if old is not None:
            await close_session(old)

    def _connected(self, now: float) -> list[InstanceReport]:
        task = self._connecting
        assert task is not None
        if not task.done():
            return []
        self._connecting = None
        error = task.exception()
        if error is None:
            self.error = None
            return self._become(InstanceStatus.RUNNING)
        if isinstance(error, UNREACHABLE):
            return self._degraded(now, error)
        return self._crashed(now, ReportKind.RESTART_FAILED, error)

    async def _snapshot(self, now: float) -> list[InstanceReport]:
        session = self._session
        if session is None:
            return self._degraded(now, BrokerUnavailable("no session"))
        try:
            state = await asyncio.wait_for(
                snapshot(self.instance, session), self.config.call_timeout
            )
        except Exception as error:
            return self._take(now, error)
        return self._take(now, state)

    def _take(self, now: float, answer: Answer | None) -> list[InstanceReport]:
        """A snapshot's outcome: the state, an unreachable broker, or a crash."""
        if answer is None or isinstance(answer, AccountMissing):
            return self._degraded(now, BrokerUnavailable("the terminal shows no account"))
        if isinstance(answer, UNREACHABLE):
            return self._degraded(now, answer)
        if isinstance(answer, Exception):  # anything else: the instance crashed
            return self._crashed(now, ReportKind.CRASHED, answer)
        self.state = answer
        return []

    def _degraded(self, now: float, error: BaseException) -> list[InstanceReport]:
        self.error = f"{type(error).__name__}: {error}"
        self._next_attempt = now + self.config.reconnect_interval
        log.warning(
            "broker_unreachable",
            instance=self.instance,
            error=self.error,
            retry_in=self.config.reconnect_interval,
        )
        return self._become(InstanceStatus.DEGRADED)

    def _crashed(self, now: float, kind: ReportKind, error: BaseException) -> list[InstanceReport]:
        self.error = f"{type(error).__name__}: {error}"
        self.restarts += 1
        log.error(
            "instance_crashed" if kind is ReportKind.CRASHED else "instance_restart_failed",
            instance=self.instance,
            error=self.error,
            restart_in=self.config.restart_delay,
        )
        self.status = InstanceStatus.RESTARTING
        reported = [self.report(kind)]
        # counted from the report, so "restarted after 3 s" holds between their times too
        self._next_attempt = max(now, time.monotonic()) + self.config.restart_delay
        return reported

    async def _stop(self) -> list[InstanceReport]:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        session = self.sessions.stop(self.instance)
        if session is not None:
            await close_session(session)
        self._session = None
        self.state = None
        return self._become(InstanceStatus.STOPPED)

    def _become(self, status: InstanceStatus) -> list[InstanceReport]:
        if status is self.status:
            return []
        self.status = status
        log.info("instance_status", instance=self.instance, status=status.value, error=self.error)
        return [self.report(ReportKind.STATUS)]

    async def close(self) -> None:
        """At shutdown: stop connecting; the sessions are closed by their owner."""
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
