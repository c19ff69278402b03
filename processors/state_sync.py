"""Account state sync: each instance's snapshot to `rts` and its latest-state key."""

from __future__ import annotations

import time

import orjson
from redis.asyncio import Redis

from brokers.types import Broker
from eaflow.models import AccountState, PendingOrderState, PositionState
from processors.topics import Topics


async def snapshot(instance: str, broker: Broker) -> AccountState | None:
    account = await broker.account_info()
    if account is None:
        return None
    positions = await broker.positions_get()
    orders = await broker.orders_get()
    return AccountState(
        instance=instance, login=account.login, currency=account.currency,
        balance=account.balance, equity=account.equity, margin=account.margin,
        margin_free=account.margin_free, margin_level=account.margin_level,
        profit=account.profit,
        positions=tuple(
            PositionState(ticket=p.ticket, symbol=p.symbol, type=p.type, volume=p.volume,
                          price_open=p.price_open, sl=p.sl, tp=p.tp,
                          price_current=p.price_current, profit=p.profit, magic=p.magic,
                          comment=p.comment)
            for p in positions
        ),
        orders=tuple(
            PendingOrderState(ticket=o.ticket, symbol=o.symbol, type=o.type,
                              volume=o.volume_current, price_open=o.price_open,
                              price_stoplimit=o.price_stoplimit, sl=o.sl, tp=o.tp,
                              magic=o.magic, comment=o.comment)
            for o in orders
        ),
        ts=time.time(),
    )


async def publish_states(topics: Topics, redis: Redis, brokers: dict[str, Broker]) -> int:
    """One pipelined round trip for all instances' snapshots; returns how many were written."""
    states = [s for i, b in brokers.items() if (s := await snapshot(i, b)) is not None]
    if not states:
        return 0
    pipe = redis.pipeline(transaction=False)
    for state in states:
        raw = state.model_dump_json()
        pipe.set(topics.state_key(state.instance), raw)
        pipe.xadd(topics.rts.key, {"d": raw}, maxlen=topics.rts.maxlen, approximate=True)
    await pipe.execute()
    return len(states)


def latest_state(raw: bytes | None) -> AccountState | None:
    return None if raw is None else AccountState.model_validate(orjson.loads(raw))
