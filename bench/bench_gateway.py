"""Webhook latency and throughput of `eaflow gateway`, beside raw Redis and raw HTTP.

The gateway runs as its own process (`eaflow gateway`) on a local redis-server. Closed
loop: one alert at a time, answered with its signal id once the signal is in `rtss`; then
N concurrent senders for throughput. In the same run: an XADD round trip (the gateway's
unavoidable Redis work) and GET /healthz (HTTP without Redis or a token), so the ratios are fair on
a noisy machine. TradingView gives up after 3 s: the p99 is what matters.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import redis
import redis.asyncio as aioredis

from bench.common import percentiles, redis_server, report, smoke_mode
from eaflow.gateway.sources import Source
from tests.redis_server import free_port

PREFIX = "ea:"
SECRET = "bench-secret-0123456789abcdef"
TEXT = f"tradingview,buy,EURUSD,vol_lots=0.1,sl=20,tp=40,secret={SECRET}".encode()
JSON = orjson.dumps(
    {
        "secret": SECRET,
        "action": "buy",
        "symbol": "EURUSD",
        "volume": 0.1,
        "sl_pips": 20,
        "tp_pips": 40,
    }
)


async def timed(call: Callable[[], Awaitable[object]], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - start)
    return samples


async def throughput(http: httpx.AsyncClient, senders: int, per_sender: int) -> float:
    async def sender() -> None:
        for _ in range(per_sender):
            response = await http.post("/webhook/tradingview", content=TEXT)
            assert response.status_code == 200, response.text

    start = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(senders)))
    return senders * per_sender / (time.perf_counter() - start)


async def measure(url: str, base: str, n: int, senders: int) -> tuple[list[dict[str, Any]], float]:
    client = aioredis.Redis.from_url(url)
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for _ in range(50):  # warm connections and code paths
            await http.post("/webhook/tradingview", content=TEXT)
        rows = []
        for what, call in (
            ("redis XADD round trip", lambda: client.xadd(f"{PREFIX}raw", {"d": JSON})),
            ("HTTP GET /healthz (no Redis)", lambda: http.get("/healthz")),
            ("webhook, text command", lambda: http.post("/webhook/tradingview", content=TEXT)),
            ("webhook, JSON alert", lambda: http.post("/webhook/tradingview", content=JSON)),
        ):
            rows.append({"what": what, **percentiles(await timed(call, n))})
        rate = await throughput(http, senders, max(1, n // senders))
    await client.aclose()
    return rows, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=2000, help="requests per closed-loop series")
    parser.add_argument("--senders", type=int, default=20, help="concurrent senders")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.n, args.senders = 60, 4
    with redis_server(free_port()) as url:
        admin = redis.Redis.from_url(url)
        source = Source(name="tradingview", secret=SECRET, rate_limit=100_000)
        admin.hset(f"{PREFIX}sources", source.name, source.model_dump_json())
        port = free_port()
        gateway = subprocess.Popen(
            [sys.executable, "-m", "eaflow", "gateway", "--redis", url, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).is_success:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            rows, rate = asyncio.run(measure(url, base, args.n, args.senders))
        finally:
            gateway.terminate()
            gateway.wait(10)
        written = admin.xlen(f"{PREFIX}rtss")
        admin.close()
    webhook = rows[2]["p50_ms"]
    report(
        "gateway",
        f"webhook latency (ms), {args.n} closed-loop requests each",
        rows,
        {
            "throughput_per_s": rate,
            "senders": args.senders,
            "signals_written": written,
            "webhook_p50_over_http_p50": webhook / rows[1]["p50_ms"],
        },
    )
    print(
        f"throughput with {args.senders} concurrent senders: {rate:,.0f} alerts/s; "
        f"signals in rtss: {written:,}"
    )


if __name__ == "__main__":
    main()
