"""Ticks and results written the way the tick feed and the executor write them."""

from __future__ import annotations

import time
from decimal import Decimal

import orjson

from brokers.sim.symbols import default_symbols
from model import Action, InstanceSpec, OrderStatus, Result
from model.tick import Tick, encode_tick
from tests.eaflow.gateway.served import PREFIX, Served

# Recorded EURUSD quotes (Lean/OANDA 2014-05-06 00:00:00-00:00:20 UTC), in seconds from the start.
EURUSD = [
    (0.10, 1.38742, 1.38755),
    (0.95, 1.38744, 1.38757),
    (1.40, 1.38740, 1.38753),
    (3.20, 1.38747, 1.38760),
    (3.70, 1.38749, 1.38762),
    (9.05, 1.38751, 1.38764),
    (9.50, 1.38746, 1.38759),
    (15.30, 1.38743, 1.38756),
]


def write_ticks(
    served: Served, symbol: str, start_ms: int, quotes: list[tuple[float, float, float]]
) -> list[Tick]:
    ticks = []
    for offset, bid, ask in quotes:
        msc = start_ms + round(offset * 1000)
        tick = Tick(
            time=msc // 1000,
            bid=bid,
            ask=ask,
            last=0.0,
            volume=0,
            time_msc=msc,
            flags=6,
            volume_real=0.0,
        )
        served.client.xadd(f"{PREFIX}ticks:{symbol}", {"d": encode_tick(tick)})
        ticks.append(tick)
    return ticks


def publish_specs(served: Served, instance: str, *symbols: str) -> None:
    """A registered instance and what its executor publishes: its broker's symbol specs."""
    spec = InstanceSpec(instance_id=instance, login=5_000_001)
    served.client.hsetnx(f"{PREFIX}instances", instance, spec.model_dump_json())
    table = default_symbols()
    for symbol in symbols:
        info = table.get(symbol)
        assert info is not None
        served.client.hset(f"{PREFIX}symbols:{instance}", symbol, orjson.dumps(info._asdict()))


def write_result(served: Served, **fields: object) -> Result:
    values: dict[str, object] = {
        "result_id": f"o{time.time_ns()}@demo-1",
        "order_id": "o1",
        "signal_id": "s1",
        "instance": "demo-1",
        "action": Action.OPEN,
        "symbol": "EURUSD",
        "status": OrderStatus.FILLED,
        "price": Decimal("1.38755"),
        "volume": Decimal("0.1"),
        "position_ticket": 7,
        "done_at": time.time(),
        **fields,
    }
    result = Result.model_validate(values)
    served.client.xadd(f"{PREFIX}rtrs", {"d": result.model_dump_json()})
    return result
