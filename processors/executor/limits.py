"""Account limits from the latest state snapshots, so most opens skip three broker calls.

An open must respect `max_open_orders`, `pyramiding` and `max_drawdown`. Asking the broker
(positions_get, orders_get, account_info) before every open costs three terminal calls; the
state sync already writes each instance's account every 500 ms (`{prefix}state:{instance}`).
`AccountLimits` keeps those snapshots and adds the opens this executor sent since, so it
knows an upper bound of the counts. An open far from every limit is cleared from memory;
one near a limit, or with a stale or missing snapshot, is checked on the broker as before.

What the snapshot cannot see: trades placed outside eaflow since it was taken (counted
by the `count_margin`) and the equity moving with prices since (the `equity_margin`).
"""

from __future__ import annotations

import time
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import orjson
from redis.asyncio import Redis

from brokers.mt5 import constants as mt5
from model import Order, TradingConfig
from model.topics import Topics


@dataclass(frozen=True)
class LimitsConfig:
    """When a snapshot is trusted to clear an open without asking the broker."""

    max_age: float = 2.0  # seconds: an older snapshot (sync stopped, Redis away) is not used
    count_margin: int = 2  # ask the broker when this close to max_open_orders or pyramiding
    equity_margin: Decimal = Decimal(5)  # ask when equity is within this % of balance of
    # the drawdown floor
    clock_skew: float = 1.0  # opens this long before a snapshot may be missing from it


@dataclass(frozen=True)
class Snapshot:
    """What the limits need of an account state."""

    ts: float
    balance: float
    equity: float
    count: int  # positions + pending orders
    same: dict[tuple[str, int], int]  # (symbol, POSITION_TYPE_*) → positions


class AccountLimits:
    """Snapshots of the hosted instances, refreshed by a timer, and the opens sent since."""

    def __init__(self, redis: Redis, topics: Topics, config: LimitsConfig | None = None) -> None:
        self.redis = redis
        self.topics = topics
        self.config = config or LimitsConfig()
        self.snapshots: dict[str, Snapshot] = {}
        self._opens: dict[str, list[float]] = defaultdict(list)  # instance → send times
        self._sides: dict[tuple[str, str, int], list[float]] = defaultdict(list)

    async def refresh(self, instances: Sequence[str]) -> None:
        """Read the latest states of `instances` in one round trip."""
        if not instances:
            return
        raw = await self.redis.mget([self.topics.keys.state(i) for i in instances])
        for instance, value in zip(instances, raw, strict=True):
            snapshot = _snapshot(value) if value else None
            if snapshot is None:
                self.snapshots.pop(instance, None)
            else:
                self.snapshots[instance] = snapshot
        horizon = time.time() - self.config.max_age - self.config.clock_skew
        for times in (*self._opens.values(), *self._sides.values()):
            del times[: bisect_left(times, horizon)]

    def opened(self, order: Order, at: float | None = None) -> None:
        """An open is about to be sent: count it until snapshots taken after it show it."""
        if order.symbol is None or order.order_type is None:
            return
        at = time.time() if at is None else at
        insort(self._opens[order.instance], at)
        insort(self._sides[(order.instance, order.symbol, _side(order))], at)

    def clears(self, order: Order, config: TradingConfig, now: float | None = None) -> bool:
        """True when the order is clearly within every limit; False means ask the broker."""
        snapshot = self.snapshots.get(order.instance)
        now = time.time() if now is None else now
        if snapshot is None or now - snapshot.ts > self.config.max_age:
            return False
        if order.symbol is None or order.order_type is None:
            return False
        since = snapshot.ts - self.config.clock_skew
        margin = self.config.count_margin
        opens = _since(self._opens.get(order.instance), since)
        if snapshot.count + opens + margin >= config.max_open_orders:
            return False
        if config.pyramiding is not None:
            key = (order.symbol, _side(order))
            same = snapshot.same.get(key, 0)
            same += _since(self._sides.get((order.instance, *key)), since)
            if same + margin >= config.pyramiding:
                return False
        balance = Decimal(repr(snapshot.balance))
        floor = balance * (1 - config.max_drawdown / 100)
        return Decimal(repr(snapshot.equity)) >= floor + balance * self.config.equity_margin / 100


def _side(order: Order) -> int:
    assert order.order_type is not None
    return mt5.POSITION_TYPE_BUY if order.order_type.is_buy else mt5.POSITION_TYPE_SELL


def _since(times: list[float] | None, since: float) -> int:
    return 0 if not times else len(times) - bisect_left(times, since)


def _snapshot(raw: bytes | str) -> Snapshot | None:
    """The counts of an AccountState's JSON; None when it is unusable (or carries an error)."""
    try:
        state = orjson.loads(raw)
        if state.get("last_error"):
            return None
        same: dict[tuple[str, int], int] = defaultdict(int)
        for position in state["positions"]:
            same[(position["symbol"], position["type"])] += 1
        return Snapshot(
            ts=float(state["ts"]),
            balance=float(state["balance"]),
            equity=float(state["equity"]),
            count=len(state["positions"]) + len(state["orders"]),
            same=dict(same),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
