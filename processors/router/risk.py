"""Prop-firm risk rules in the router: loss limits per day and week, trades per day.

Every refresh (500 ms) values each ruled instance's equity live: its latest snapshot's
balance plus each open position revalued at the newest quote as MT5 books it
(`sizing.live_loss`, the loss side's conversion), so a loss counts from the tick that
made it, not from a snapshot up to 500 ms old. The equity the day (or week) started
with is the first valued after the period began, kept in `risk:{instance}` so every
router agrees. When the loss from it reaches a limit, the breach is written once
(HSETNX) and reported in `ris` (`risk_limit`) by the router that found it. With
`close_all`, the router holding the `rtss` lease, whichever router wrote the breach, sends
the instance a close_all order through its lease's fenced commit (streams/agent.py
`commit_held`), so a standby sends none; the order's id names the period, so the executor
closes once however many holders send it (a failover). From then on the
instance is `reducing` (exits only) or `halted` until the next period starts, or an
operator lifts it by deleting the instance's record (`eaflow risk lift INSTANCE`): the
day and week then count again from the equity of the next refresh.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
import structlog
from redis.asyncio import Redis

from brokers.mt5.records import SymbolInfo
from model import EXIT_ACTIONS, Action, InstanceSpec, Order, Signal, TradingState
from model.report import InstanceReport, InstanceStatus, ReportKind
from model.risk import RiskRules
from model.topics import Topics
from processors.metrics import RISK_LIMIT_HIT, TRADING_STATE
from processors.router.accounts import Accounts
from processors.router.equity import live_equity
from processors.rules import Refusal
from streams import Outbox

log = structlog.get_logger(__name__)

Fenced = Callable[[Outbox], Awaitable[bool]]
"""Commits writes while the router holds its lease on `rtss`; whether they were written."""

NO_RULES = RiskRules()
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Breach:
    """A loss limit hit: which, in what period, how much, and until when it holds."""

    rule: str  # the configuration field, e.g. "risk.daily_loss_percent"
    period: str  # "2026-12-07" or "2026-W50"
    state: str  # "reducing" or "halted"
    loss: str
    limit: str
    at: float
    until: float

    def refusal(self, instance: str) -> Refusal:
        if self is UNREADABLE:
            return Refusal(
                "risk", f"{instance}'s breach record is unreadable: halted until "
                f"`eaflow risk lift {instance}`",
            )  # fmt: skip
        return Refusal(
            self.rule,
            f"{instance} lost {self.loss} in {self.period}, limit {self.limit}: {self.state} "
            f"until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(self.until))} "
            "or an operator lifts it",
        )


UNREADABLE = Breach("risk", "?", "halted", "?", "?", 0.0, 0.0)
"""A breach record that does not decode (written by hand): held as a halt, never ignored."""


@dataclass
class Period:
    """What the guard knows of one ruled instance in the current period."""

    rules: RiskRules
    day: str
    trades: int = 0
    breach: Breach | None = None


class RiskGuard:
    """Example: ``await guard.refresh(instances, symbols, accounts, snapshots)`` on the
    router's timer; ``guard.check(signal, spec)`` before planning;
    ``guard.routed(order, out)`` after."""

    def __init__(
        self, redis: Redis, topics: Topics, clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.topics = topics
        self.clock = clock
        self.periods: dict[str, Period] = {}
        self._closing: set[tuple[str, str]] = set()  # (instance, period) closed by this router
        self.fenced: Fenced | None = None  # set by Router.serve: its agent's commit_held

    async def refresh(
        self,
        instances: Mapping[str, InstanceSpec],
        symbols: Mapping[str, Mapping[str, SymbolInfo]],
        accounts: Accounts,
        snapshots: Mapping[str, Any],
    ) -> None:
        """Judge each ruled instance on `snapshots`, its state as the router read and
        decoded it this refresh (absent: none)."""
        ruled = {i: s.config.risk for i, s in instances.items() if s.config.risk != NO_RULES}
        for gone in self.periods.keys() - ruled:
            RISK_LIMIT_HIT.labels(instance_id=gone).set(0)
        self.periods = {i: p for i, p in self.periods.items() if i in ruled}
        try:
            await self._judge(instances, ruled, symbols, accounts, snapshots)
        finally:
            for instance, period in self.periods.items():
                RISK_LIMIT_HIT.labels(instance_id=instance).set(period.breach is not None)

    async def _judge(
        self,
        instances: Mapping[str, InstanceSpec],
        ruled: Mapping[str, RiskRules],
        symbols: Mapping[str, Mapping[str, SymbolInfo]],
        accounts: Accounts,
        snapshots: Mapping[str, Any],
    ) -> None:
        if not ruled:
            return
        now = self.clock()
        keys = self.topics.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            for instance in ruled:
                pipe.hgetall(keys.risk(instance))
            replies: list[Any] = await pipe.execute()
        for n, (instance, rules) in enumerate(ruled.items()):
            state, fields = _state(snapshots.get(instance)), _text(replies[n])
            day, week = rules.periods(now)
            period = Period(rules, day, int(fields.get(f"trades:{day}", 0)))
            period.breach = _breach(fields.get(f"breach:{day}") or fields.get(f"breach:{week}"))
            self.periods[instance] = period
            if state is None or not rules.limits_loss:
                continue
            config = instances[instance].config
            try:
                equity = await live_equity(state, instance, config, symbols, accounts)
            except (KeyError, TypeError, ValueError, ArithmeticError) as error:
                log.warning("risk_state_refused", instance=instance, error=repr(error))
                continue  # a position it cannot read: no limit judged on a guess
            starts = {p: fields.get(f"start:{p}") for p in (day, week)}
            if None in starts.values():
                await self._start(instances[instance], fields, starts, equity)
                continue
            if period.breach is None:
                period.breach = _hit(rules, now, day, week, starts, equity)
                if period.breach is not None:
                    await self._breached(instances[instance], period.breach, state, equity)
            if period.breach is not None and period.breach is not UNREADABLE:
                await self._close_all(instances[instance], period.breach, state)

    async def _start(
        self,
        spec: InstanceSpec,
        fields: dict[str, str],
        starts: dict[str, str | None],
        equity: Decimal,
    ) -> None:
        """A new day or week: its starting equity, the old periods' fields pruned; a breach
        that ends with its period is reported (`risk_cleared`) by the router that removed it."""
        key = self.topics.keys.risk(spec.instance_id)
        stale = [f for f in fields if f.partition(":")[2] not in starts]
        ended = [f for f in stale if f.startswith("breach:")]
        rest = [f for f in stale if f not in ended]
        async with self.redis.pipeline(transaction=True) as pipe:
            if ended:  # first, so its reply says whether this router removed them
                pipe.hdel(key, *ended)
            if rest:
                pipe.hdel(key, *rest)
            for period, start in starts.items():
                if start is None:
                    pipe.hsetnx(key, f"start:{period}", str(equity.quantize(CENT)))
            replies: list[Any] = await pipe.execute()
        if ended and replies[0]:
            periods = ", ".join(f.partition(":")[2] for f in ended)
            await self._report(
                spec, ReportKind.RISK_CLEARED, f"the loss limit of {periods} ended with it", equity
            )

    async def _report(
        self,
        spec: InstanceSpec,
        kind: ReportKind,
        text: str,
        equity: Decimal,
        balance: float | None = None,
    ) -> None:
        report = InstanceReport(
            instance=spec.instance_id,
            kind=kind,
            status=InstanceStatus.RUNNING,
            config_version=spec.config_version,
            equity=float(equity),
            balance=balance,
            error=text,
        )
        await self.topics.ris.send(report.model_dump(mode="json"))

    async def _breached(
        self, spec: InstanceSpec, breach: Breach, state: dict[str, Any], equity: Decimal
    ) -> None:
        instance = spec.instance_id
        key = self.topics.keys.risk(instance)
        if await self.redis.hsetnx(key, f"breach:{breach.period}", _dump(breach)):
            log.warning("risk_limit_hit", instance=instance, rule=breach.rule, loss=breach.loss)
            text = str(breach.refusal(instance))
            balance = float(state["balance"])
            await self._report(spec, ReportKind.RISK_LIMIT, text, equity, balance)

    async def _close_all(self, spec: InstanceSpec, breach: Breach, state: dict[str, Any]) -> None:
        """With `close_all`, the lease holder sends the breach's close_all while the account
        holds anything, once (whichever router wrote the breach): through its lease's fenced
        commit, so a standby, or a router whose lease was lost, sends none."""
        instance = spec.instance_id
        done = (instance, breach.period)
        held = state["positions"] or state.get("orders")  # pending orders are closed too
        if not spec.config.risk.close_all or done in self._closing or not held:
            return
        if self.fenced is None:
            return  # not installed on the router agent: it holds no lease
        order_id = f"risk/{breach.period}/{breach.rule}"
        out = Outbox()
        out.send(
            self.topics.orders(instance),
            Order(
                order_id=order_id,
                signal_id=order_id,
                instance=instance,
                action=Action.CLOSE_ALL,
                magic=spec.magic,
                comment="risk limit",
                source="risk",
                received_at=breach.at,
                routed_at=self.clock(),
            ),
        )
        if await self.fenced(out):
            self._closing.add(done)

    def check(self, signal: Signal, spec: InstanceSpec) -> None:
        """Refuse what a breach or the day's trade count forbids on this instance."""
        period = self.periods.get(spec.instance_id)
        if period is None or signal.action in (Action.HALT, Action.RESUME):
            return
        breach = period.breach
        if breach is not None and (breach.state == "halted" or signal.action not in EXIT_ACTIONS):
            raise breach.refusal(spec.instance_id)
        cap = period.rules.max_trades_per_day
        if signal.action is Action.OPEN and cap is not None and period.trades >= cap:
            raise Refusal(
                "risk.max_trades_per_day",
                f"{spec.instance_id} opened {period.trades} orders on {period.day}, "
                f"the most a day may have",
            )

    def routed(self, order: Order, out: Outbox) -> None:
        """An opening order leaves for an instance with `max_trades_per_day`: counted in
        its day, in the same commit as the order."""
        period = self.periods.get(order.instance)
        if period is None or period.rules.max_trades_per_day is None:
            return
        if order.action is not Action.OPEN:
            return
        period.trades += 1
        out.call("HINCRBY", self.topics.keys.risk(order.instance), f"trades:{period.day}", 1)


STATE_LEVEL = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def observe_states(global_state: TradingState, instances: Mapping[str, InstanceSpec]) -> None:
    """The kill switches as the router reads them, for alerting (`eaflow_trading_state`)."""
    TRADING_STATE.labels(scope="global").set(STATE_LEVEL[global_state])
    for instance, spec in instances.items():
        TRADING_STATE.labels(scope=instance).set(STATE_LEVEL[spec.config.trading_state])


def _hit(
    rules: RiskRules,
    now: float,
    day: str,
    week: str,
    starts: Mapping[str, str | None],
    equity: Decimal,
) -> Breach | None:
    """The first loss limit the equity has reached, if any."""
    for period, money, percent in (
        (day, rules.daily_loss, rules.daily_loss_percent),
        (week, rules.weekly_loss, rules.weekly_loss_percent),
    ):
        start = Decimal(starts[period] or 0)
        loss = start - equity
        limits = [
            (name, limit)
            for name, limit in (
                ("daily_loss" if period == day else "weekly_loss", money),
                (
                    "daily_loss_percent" if period == day else "weekly_loss_percent",
                    None if percent is None else start * percent / 100,
                ),
            )
            if limit is not None
        ]
        for name, limit in limits:
            if loss >= limit:
                until = rules.next_start(now)
                if period == week:  # the week ends on the Monday boundary
                    while rules.periods(until)[1] == week:
                        until = rules.next_start(until)
                return Breach(
                    rule=f"risk.{name}",
                    period=period,
                    state=rules.on_limit,
                    loss=f"{loss:.2f}",
                    limit=f"{limit:.2f}",
                    at=now,
                    until=until,
                )
    return None


def _state(snapshot: Any) -> dict[str, Any] | None:
    """A usable snapshot (balance, currency, positions), else None: no limit is judged on
    a state that cannot be read."""
    if not isinstance(snapshot, dict):
        return None  # none, or not a JSON object
    try:
        if snapshot.get("last_error") or not isinstance(snapshot["positions"], list):
            return None
        float(snapshot["balance"]), str(snapshot["currency"])
        return snapshot
    except (KeyError, TypeError, ValueError):
        return None


def _text(fields: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }


def _breach(raw: str | None) -> Breach | None:
    if raw is None:
        return None
    try:
        return Breach(**orjson.loads(raw))
    except (orjson.JSONDecodeError, TypeError):
        return UNREADABLE


def _dump(breach: Breach) -> str:
    return orjson.dumps(breach.__dict__).decode()
