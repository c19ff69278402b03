"""Accepted signals into `rtss`, held by as many replicas as the deployment asks before the
webhook answers (decision 0019).

TradingView does not retry an alert answered 200, so a signal the primary acknowledged and
lost in a failover before its replica had it would be lost outright. With `durability` (one
replica by default behind Sentinel) the signals' transaction is followed, in the same round
trip and on the connection that wrote them, by `WAIT n timeout`. A wait that falls short does
not refuse the alert: the signals are in the primary and will very likely be executed, and an
error would invite the sender to send them again, twice. The answer says `replicated: false`,
a warning is logged and `eaflow_gateway_signals_not_replicated_total` counts them. Without
durability nothing waits: one MULTI/EXEC round trip, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from prometheus_client import Counter
from redis.asyncio import Redis

from streams import Topic
from streams.durable import Durability

log = structlog.get_logger(__name__)

NOT_REPLICATED = Counter(
    "eaflow_gateway_signals_not_replicated",
    "Signals accepted (answered 200) before as many replicas as EAFLOW_WAIT_REPLICAS asked "
    "held them: a failover then could lose them",
)


async def publish(
    redis: Redis, rtss: Topic[object], signals: Sequence[dict[str, Any]], durability: Durability
) -> bool | None:
    """Write `signals` to `rtss` in one transaction. With `durability`: whether its replicas
    held them within its timeout; without: None (nothing waited for)."""
    if not durability:
        pipe = redis.pipeline(transaction=True)
        for signal in signals:
            pipe.xadd(rtss.key, rtss.fields(signal), **rtss.limits())
        await pipe.execute()
        return None
    pipe = redis.pipeline(transaction=False)  # MULTI/EXEC by hand: WAIT must follow EXEC
    pipe.execute_command("MULTI")
    for signal in signals:
        pipe.xadd(rtss.key, rtss.fields(signal), **rtss.limits())
    pipe.execute_command("EXEC")
    durability.queue(pipe)
    *_, written, acked = await pipe.execute()
    failed = next((r for r in written if isinstance(r, Exception)), None)
    if failed is not None:  # as the transaction pipeline raises it (the gateway answers 503)
        raise failed
    if int(acked) >= durability.replicas:
        return True
    NOT_REPLICATED.inc(len(signals))
    log.warning(
        "signals_not_replicated",
        signal_ids=[s["signal_id"] for s in signals],
        acked=int(acked),
        wanted=durability.replicas,
        timeout_ms=durability.timeout_ms,
    )
    return False
