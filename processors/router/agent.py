"""The `router` agent on `rtss`: one order per target instance, or a `rejected` result.

The router's own results (a rejection, an eaoff/eaon switch) are guarded by the order's
record (`orec:{instance}`, the executor's effectively-once record, `Outbox.once`): a signal
sent again, or an entry handled by two routers, gets no second result, and an order the
executor already holds is never answered by a rejection of its copy. An order routed after
its signal was rejected finds the record terminal and is skipped by the executor. Order ids
are scoped to their source (`plan.order_id_of`), so one source's id never meets another's.

An eaoff/eaon alert writes the instance's alert switch (`switch:{instance}`), never the
operator's `trading_state` in the instance's spec: an alert cannot lift an operator's halt.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
import structlog
from pydantic import ValidationError
from redis.asyncio import Redis

from brokers.mt5.records import SymbolInfo
from brokers.mt5.requests import comment_of
from model import (
    Action,
    InstanceSpec,
    Order,
    OrderStatus,
    Result,
    Signal,
    StopsUnit,
    TradingState,
    new_id,
    refusal_of,
)
from model.config import AlertSwitch
from model.money import dec
from model.topics import Topics
from processors.metrics import SIGNALS_RECEIVED, SIGNALS_REJECTED
from processors.registry import InstanceRegistry
from processors.router.accounts import Accounts
from processors.router.copying import reversed_signal
from processors.router.plan import (
    DEFAULT_SOURCE,
    order_id_of,
    plan_orders,
    plan_switch,
    strategy_of,
)
from processors.router.prices import LatestTicks
from processors.router.risk import RiskGuard, observe_states
from processors.router.targets import resolve_targets
from processors.rules import Refusal
from streams import Agent, App, Event, Outbox

log = structlog.get_logger(__name__)

GROUP = "router"
"""The consumer group routers read `rtss` as."""


class Router:
    """Holds what routing needs in memory, refreshed by a 500 ms timer, and the latest ticks,
    followed by `prices`, so a signal costs no Redis round trip but its commit."""

    def __init__(self, topics: Topics, registry: InstanceRegistry, redis: Redis) -> None:
        self.topics = topics
        self.registry = registry
        self.redis = redis
        self.instances: dict[str, InstanceSpec] = {}
        self.symbols: dict[str, dict[str, SymbolInfo]] = {}
        self.balances: dict[str, Decimal] = {}
        self.figures: dict[str, dict[str, Decimal]] = {}  # instance → its latest figures
        self.switches: dict[str, AlertSwitch] = {}  # instance → its alert's eaoff/eaon
        self.global_state = TradingState.ACTIVE
        self._rev_keys = [registry.keys.instances_rev, registry.keys.symbols_rev]
        self._revs: list[Any] = [None, None]  # the publications the last refresh read
        self._unreadable: dict[str, bytes | str] = {}  # instance → its refused snapshot
        self.prices = LatestTicks(redis, topics.keys.ticks)  # its `run` is an app task
        self.accounts = Accounts(self.prices)  # symbol names, currencies, live loss per lot
        self.risk = RiskGuard(redis, topics)  # loss limits and trades per day

    def serve(self, app: App) -> Agent:
        """The router's exclusive agent on `rtss` in `app`; a breach's close_all goes out
        through its lease (RiskGuard.fenced), so only the holder sends it."""
        agent = app.agent(self.topics.rtss, group=GROUP, exclusive=True)(self.handle)
        self.risk.fenced = partial(agent.commit_held, self.topics.rtss.key)
        return agent

    async def refresh(self) -> None:
        revs = await self.redis.mget(self._rev_keys)  # read before what they stand for
        self.instances = await self.registry.all()
        self.global_state = await self.registry.global_state()
        rev = revs[1]
        if rev is None or rev != self._revs[1] or self.instances.keys() - self.symbols:
            self.symbols = await self.registry.all_symbols(list(self.instances))
            self.accounts.published()
        self._revs = revs  # symbols are read again only after a new publication
        ids = list(self.instances)
        keys = self.topics.keys
        raw = await self.redis.mget([*map(keys.state, ids), *map(keys.switch, ids)])
        states = {i: r for i, r in zip(ids, raw[: len(ids)], strict=True) if r is not None}
        snapshots = {i: _decoded(r) for i, r in states.items()}  # each parsed once
        figures = {i: _figures(s) for i, s in snapshots.items()}
        self.figures = {i: f for i, f in figures.items() if f}
        self.balances = {i: f["balance"] for i, f in self.figures.items() if "balance" in f}
        for instance in snapshots.keys() - self.balances.keys():
            self._refused(instance, states[instance], snapshots[instance])
        switches = {
            i: self.registry.switch_of(i, r) for i, r in zip(ids, raw[len(ids) :], strict=True)
        }
        self.switches = {i: s for i, s in switches.items() if s is not None}
        self.accounts.read_states(snapshots)
        observe_states(self.global_state, self.instances)
        await self.risk.refresh(self.instances, self.symbols, self.accounts, snapshots)

    def _refused(self, instance: str, raw: bytes | str, snapshot: Any) -> None:
        """A snapshot without a usable balance is logged (once per value): the instance has
        no balance, so risk-sized signals for it are refused, not guessed."""
        if self._unreadable.get(instance) == raw:
            return
        self._unreadable[instance] = raw
        try:
            if isinstance(snapshot, orjson.JSONDecodeError):
                raise snapshot
            balance = snapshot["balance"]
            raise TypeError(f"must be a number, not {type(balance).__name__}")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            rule = "is missing" if isinstance(error, KeyError) else str(error)
            log.warning("state_snapshot_refused", instance=instance, field="balance", rule=rule)

    async def handle(self, event: Event[Any], out: Outbox) -> None:
        received = time.time()
        SIGNALS_RECEIVED.inc()
        try:
            signal = Signal.model_validate(event.value)
        except ValidationError as error:
            field, rule = refusal_of(error)
            self._reject_raw(event.value, field, rule, received, out)
            return
        if not self.instances:
            await self.refresh()
        routes = await self._route(signal)
        if any(isinstance(r, Refusal) for _, r in routes) and await self._stale():
            await self.refresh()  # an instance or its symbols were published since: look again
            routes = await self._route(signal)
        for instance, route in routes:
            if isinstance(route, Refusal):
                self._reject(signal, instance, route, out)
            elif isinstance(route, AlertSwitch):
                self._switch(signal, instance, route, out)
            else:
                if route.trailing is not None:  # rides with the position: the ticks agent's
                    self._trail(route, out)
                out.send(self.topics.orders(instance), route)
                self.risk.routed(route, out)

    async def _route(self, signal: Signal) -> list[tuple[str, Order | Refusal | AlertSwitch]]:
        """What each target gets: an order, a refusal, or (eaoff, eaon) its alert switch;
        a signal that finds no target is refused for instance `*`."""
        switched_off = {i for i, s in self.switches.items() if s.state is TradingState.HALTED}
        try:
            targets = resolve_targets(signal, self.instances, self.symbols, switched_off)
        except Refusal as refusal:
            return [("*", refusal)]
        names = self.accounts.names(signal, targets, self.symbols)  # the brokers' symbols
        priced = signal.action is Action.OPEN or (
            signal.action is Action.SLTP and signal.stops_unit is not StopsUnit.PRICE
        )
        ticks = await self.accounts.ticks(names, self.symbols, signal.symbol) if priced else {}
        now = time.time()
        routes: list[tuple[str, Order | Refusal | AlertSwitch]] = []
        for spec in targets:
            planned: list[Order] | list[AlertSwitch]
            instance, name = spec.instance_id, names[spec.instance_id]
            try:
                if signal.action in (Action.HALT, Action.RESUME):
                    planned = [plan_switch(signal, spec, self.global_state, now)]
                else:
                    if isinstance(name, Refusal):
                        raise name
                    self.risk.check(signal, spec)
                    market = self.accounts.market(
                        instance,
                        name,
                        self.symbols,
                        ticks,
                        self.balances.get(instance),
                        self.global_state,
                        self.switches.get(instance),
                        self.figures.get(instance),
                    )
                    # one ticket of this account: its own prices, nothing to mirror
                    mirrored = spec.config.reverse and signal.ticket is None
                    copied = reversed_signal(signal) if mirrored else signal
                    planned = plan_orders(copied, spec, market, now)
                    if name != signal.symbol:
                        update = {"symbol": name, "signal_symbol": signal.symbol}
                        planned = [order.model_copy(update=update) for order in planned]
            except Refusal as refusal:
                routes.append((spec.instance_id, refusal))
            else:
                routes += [(spec.instance_id, route) for route in planned]
        return routes

    async def _stale(self) -> bool:
        """Whether instances or symbols were published since the last refresh, so a refusal
        may come from what the 500 ms timer has not read yet (one MGET, on refusals only)."""
        return list(await self.redis.mget(self._rev_keys)) != list(self._revs)

    def _trail(self, order: Order, out: Outbox) -> None:
        """Leave the alert's trailing where the ticks agent finds it, under the comment the
        order's position will carry, in the same commit as the order."""
        assert order.trailing is not None
        key = self.topics.keys.alert_trailing(order.instance)
        value = {"trailing": order.trailing.model_dump(mode="json"), "at": order.routed_at}
        out.call("HSET", key, comment_of(order), orjson.dumps(value))

    def _switch(self, signal: Signal, instance: str, switch: AlertSwitch, out: Outbox) -> None:
        """eaoff/eaon: the instance's alert switch changes in the same transaction as its
        result (the router's role may write `switch:*`, not the registry)."""
        self.switches[instance] = switch
        self._once(out, instance, switch.order_id, OrderStatus.MODIFIED)
        for name, *args in self.registry.switch_writes(instance, switch):
            out.call(str(name), *args)
        out.send(
            self.topics.rtrs,
            Result(
                result_id=f"{switch.order_id}@{instance}",
                order_id=switch.order_id,
                signal_id=signal.signal_id,
                instance=instance,
                action=signal.action,
                status=OrderStatus.MODIFIED,
                source=signal.source,
                received_at=signal.created_at,
            ),
        )
        state, source = switch.state.value, switch.source
        log.warning("alert_switch_changed", instance=instance, state=state, source=source)

    def _once(self, out: Outbox, instance: str, order_id: str, status: OrderStatus) -> None:
        """What follows in `out` is written only if the order has no record yet."""
        out.once(self.topics.keys.order_records(instance), order_id, status.value)

    def _reject(self, signal: Signal, instance: str, refusal: Refusal, out: Outbox) -> None:
        SIGNALS_REJECTED.labels(field=refusal.field).inc()
        order_id = order_id_of(signal)
        self._once(out, instance, order_id, OrderStatus.REJECTED)
        out.send(
            self.topics.rtrs,
            Result(
                result_id=f"{order_id}@{instance}",
                order_id=order_id,
                signal_id=signal.signal_id,
                instance=instance,
                action=signal.action,
                symbol=signal.symbol,
                status=OrderStatus.REJECTED,
                field=refusal.field,
                error=str(refusal),
                source=signal.source,
                strategy=strategy_of(signal) or None,
                comment=signal.comment or None,
                received_at=signal.created_at,
            ),
        )

    def _reject_raw(self, raw: Any, field: str, rule: str, received: float, out: Outbox) -> None:
        """A signal that failed validation: ids come from the body when they are usable."""
        body = raw if isinstance(raw, dict) else {}
        given_signal_id = _usable_id(body.get("signal_id"))
        given_order_id = _usable_id(body.get("order_id"))
        signal_id = given_signal_id or new_id()
        source = _usable_id(body.get("source")) or DEFAULT_SOURCE
        order_id = given_order_id or signal_id
        if source != DEFAULT_SOURCE:  # as plan.order_id_of scopes it
            order_id = f"{source}/{order_id}"
        SIGNALS_REJECTED.labels(field=field).inc()
        if given_signal_id or given_order_id:  # a generated id is never seen again
            self._once(out, "*", order_id, OrderStatus.REJECTED)
        out.send(
            self.topics.rtrs,
            Result(
                result_id=f"{order_id}@*",
                order_id=order_id,
                signal_id=signal_id,
                instance="*",
                status=OrderStatus.REJECTED,
                field=field,
                error=f"{field}: {rule}",
                source=source,
                received_at=received,
            ),
        )


FIGURES = ("balance", "equity", "margin_free", "margin_level")


def _decoded(raw: bytes | str) -> Any:
    """A state snapshot as JSON decodes it, or the error that refuses it (no JSON value is
    an exception, so the two cannot be confused)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return error


def _figures(snapshot: Any) -> dict[str, Decimal]:
    """The account figures of a decoded snapshot that are numbers (for account filters and
    risk sizing's balance)."""
    if not isinstance(snapshot, dict):
        return {}
    return {
        name: dec(value)
        for name in FIGURES
        if isinstance(value := snapshot.get(name), int | float) and not isinstance(value, bool)
    }


NAME = re.compile(r"[A-Za-z0-9_.:#@+\-]{1,64}")
"""An id or source name as `Signal` takes them: no '/', which scopes order ids."""


def _usable_id(value: object) -> str | None:
    return value if isinstance(value, str) and NAME.fullmatch(value) else None
