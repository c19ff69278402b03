"""What the durability wait costs an order and an alert (decision 0019): `mark_sent` and the
gateway's `publish` on a primary with one replica on loopback, without WAIT
(EAFLOW_WAIT_REPLICAS=0) and with WAIT 1, beside a raw PING and a raw SET + WAIT 1 on the
same servers in the same run.

The `sent` record is written once per order sent to a real terminal (the held simulator
writes none), right before `order_send`: the difference of the two `mark_sent` rows is
what the wait adds to such an order's path. `publish` is the webhook's one write, a signal
into `rtss`, before its answer: the difference of its two rows is what the wait adds to
each alert's answer.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from shutil import which
from typing import Any

import redis.asyncio as aioredis

from bench.common import percentiles, redis_server, report, run_sized
from eaflow.gateway.publish import publish
from model.topics import Topics
from processors.executor.records import OrderRecords
from streams import App, AppSettings
from streams.durable import Durability
from tests.redis_server import free_port
from tests.stubs import make_order

PREFIX = "ea:"


async def timed(n: int, step: Callable[[int], Awaitable[Any]]) -> dict[str, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        await step(i)
        samples.append(time.perf_counter() - start)
    return percentiles(samples[n // 10 :])


async def measure(url: str, n: int) -> dict[str, dict[str, float]]:
    client = aioredis.Redis.from_url(url)
    while int(await client.wait(1, 100)) < 1:  # the replica is in sync
        pass
    orders = [make_order(symbol="EURUSD", order_type="buy", volume="0.01") for _ in range(2 * n)]
    plain = OrderRecords(client, PREFIX)
    durable = OrderRecords(client, PREFIX, durability=Durability(1, 1000))
    once = Durability(1, 1000)
    app = App(AppSettings(redis_url=url, prefix=PREFIX))
    rtss = Topics(app).rtss
    signals = [{"signal_id": f"s{i}", "source": "tradingview", "order_type": "buy",
                "symbol": "EURUSD", "volume": "0.1"} for i in range(n)]  # fmt: skip

    async def set_wait(i: int) -> None:
        pipe = client.pipeline(transaction=False)
        pipe.set(f"k{i}", "v")
        pipe.wait(1, 1000)
        await pipe.execute()

    found = {
        "ping": await timed(n, lambda i: client.ping()),
        "set_wait": await timed(n, set_wait),
        "mark_sent": await timed(n, lambda i: plain.mark_sent(orders[i])),
        "mark_sent_wait": await timed(n, lambda i: durable.mark_sent(orders[n + i])),
        "publish": await timed(n, lambda i: publish(client, rtss, [signals[i]], Durability())),
        "publish_wait": await timed(n, lambda i: publish(client, rtss, [signals[i]], once)),
    }
    await client.aclose()
    await app.redis.aclose()
    return found


def replica_of(port: int, replica_port: int) -> subprocess.Popen[bytes]:
    binary = which("redis-server")
    assert binary is not None  # redis_server() found it
    return subprocess.Popen(
        [binary, "--port", str(replica_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", tempfile.mkdtemp(prefix="bench-replica-"),
         "--replicaof", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def main(n: int, port: int) -> None:
    with redis_server(port) as url:
        replica = replica_of(port, free_port())
        try:
            found = await measure(url, n)
        finally:
            replica.terminate()
            replica.wait()
    rows = [{"what": what, **{k: round(v, 3) for k, v in p.items()}} for what, p in found.items()]
    cost = found["mark_sent_wait"]["p50_ms"] - found["mark_sent"]["p50_ms"]
    alert = found["publish_wait"]["p50_ms"] - found["publish"]["p50_ms"]
    costs = {"wait_cost_p50_ms": cost, "alert_wait_cost_p50_ms": alert}
    report("durable", "sent record and webhook signal, without and with WAIT 1 (ms)", rows,
           {"figures": found, **costs})  # fmt: skip


if __name__ == "__main__":
    run_sized(main, __doc__, 2000, "writes per row")
