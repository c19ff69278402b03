"""Signal → result latency through webhook → router → executor → `rtrs`, beside raw Redis.

Open loop: a paced sender POSTs TradingView alerts to the gateway (a real uvicorn server,
`eaflow gateway`) while `eaflow worker rtss` and `eaflow worker orders` run as their own
processes with 1, 10 and 100 simulated instances. Each instance alternately opens a
0.01-lot EURUSD buy and closes it, so every signal is a real trade on the simulator.
Latency runs from when a signal was due to when its result is in `rtrs`. For each step:
the achieved rate, the backlog (signals due but not yet answered by the gateway, plus
XINFO GROUPS lag + pending of the router's and the executors' groups) sampled every 0.5 s,
and its fitted growth; a step is sustained when the backlog does not grow (< 5 % of the
rate per second) and drains. A step whose backlog passes max(300, rate) stops sending
early. `max` sends as fast as results come back with at most `--window` signals in
flight (4 per instance): the maximal sustained rate.

The raw figures come from the same Redis in the same run (bench/raw.py): the same chain
of round trips and stream hops with bare redis-py calls, and pipelined XADD/XREADGROUP.

    python -m bench.bench_webhook [--instances 1 10 100] [--rates 100 1000 max] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from bench.common import percentiles, redis_server, report
from bench.loadgen import Load, send_paced
from bench.raw import ROUND_TRIPS, raw_chain, raw_rates
from bench.stack import PREFIX, Stack, feed, start_stack
from tests.redis_server import free_port


@dataclass
class Results:
    """Follows `rtrs` from the end: order_id → (arrival, status)."""

    client: aioredis.Redis
    last: Any = b"$"
    arrived: dict[str, tuple[float, str]] = field(default_factory=dict)
    freed: asyncio.Event = field(default_factory=asyncio.Event)
    tag: str = ""  # order ids of the current step start with it
    tagged: int = 0  # results of the current step so far
    errors: dict[str, int] = field(default_factory=dict)  # "status: error" → count

    async def run(self) -> None:
        while True:
            reply: Any = await self.client.xread(
                {f"{PREFIX}rtrs": self.last}, block=1000, count=1000
            )
            now = time.perf_counter()
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    result = orjson.loads(fields[b"d"])
                    self.arrived[result["order_id"]] = (now, result["status"])
                    self.tagged += result["order_id"].startswith(self.tag)
                    if result.get("error"):
                        why = f"{result['status']}: {result['error'][:80]}"
                        self.errors[why] = self.errors.get(why, 0) + 1
                    self.last = entry_id
            if reply:
                self.freed.set()


async def backlog(client: aioredis.Redis, instances: list[str]) -> tuple[int, int]:
    """(router, executors): entries not yet read plus read but not acked."""
    pipe = client.pipeline(transaction=False)
    pipe.xinfo_groups(f"{PREFIX}rtss")
    for instance in instances:
        pipe.xinfo_groups(f"{PREFIX}orders:{instance}")
    replies = await pipe.execute()
    totals = [sum(int(g.get("lag") or 0) + int(g["pending"]) for g in r) for r in replies]
    return totals[0], sum(totals[1:])


def bodies(stack: Stack, tag: str, count: int) -> Iterator[tuple[str, dict[str, object]]]:
    """Signal j goes to instance j mod N, which alternately opens and closes a buy."""
    k = len(stack.instances)
    for j in range(count):
        order_id = f"{tag}-{j}"
        body: dict[str, object] = {
            "secret": stack.secret,
            "symbol": "EURUSD",
            "instances": [stack.instances[j % k]],
            "order_id": order_id,
        }
        if (j // k) % 2:
            body["action"] = "closelong"
        else:
            body.update(action="buy", volume="0.01")
        yield order_id, body


async def step(
    stack: Stack, results: Results, rate: str, seconds: float, window: int, tag: str
) -> dict[str, Any]:
    """One rate for `seconds`; an open-loop step whose backlog passes `overload` entries
    stops sending early (it is not sustained, and its queue must drain in bounded time)."""
    client = aioredis.Redis.from_url(stack.url)
    samples: list[tuple[float, int, int]] = []
    stop_sampling, overloaded = asyncio.Event(), asyncio.Event()
    overload = max(300, int(float(rate))) if rate != "max" else 10 * window
    load = Load()

    async def sample() -> None:
        while not stop_sampling.is_set():
            router, executors = await backlog(client, stack.instances)
            waiting = load.waiting  # not even in rtss yet: queued at or before the gateway
            samples.append((time.perf_counter(), router + waiting, executors))
            if waiting + router + executors > overload:
                overloaded.set()
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    cpu_before = stack.cpu_seconds()
    results.tag, results.tagged = f"{tag}-", 0
    results.errors.clear()
    started = time.perf_counter()
    if rate == "max":
        await send_paced(
            "127.0.0.1", stack.port, bodies(stack, tag, 1_000_000), 0, window=window,
            freed=results.freed, in_flight=lambda: len(load.sent) - results.tagged,
            until=started + seconds, load=load,
        )  # fmt: skip
    else:
        planned = bodies(stack, tag, int(float(rate) * seconds))
        await send_paced("127.0.0.1", stack.port, planned, float(rate), stop=overloaded, load=load)
    sent_for = time.perf_counter() - started
    left = await drain(results, load, stack)
    cpu = {k: v - cpu_before[k] for k, v in stack.cpu_seconds().items()}
    stop_sampling.set()
    await sampler
    await client.aclose()
    row = summarize(rate, load, results, sent_for, samples, started)
    row["stopped_early"] = overloaded.is_set()
    row["undrained"] = left
    row["sustained"] = (
        not overloaded.is_set()
        and not left
        and row["backlog_growth_per_s"] < 0.05 * row["achieved_per_s"]
    )
    row["cpu_ms_per_signal"] = {k: 1e3 * v / max(1, row["results"]) for k, v in cpu.items()}
    return row


async def flatten(stack: Stack, results: Results, tag: str) -> None:
    """Close whatever a previous step left open (it may have stopped between an open and its
    close), so each step starts from flat accounts and every close has a position."""
    load = Load()
    closes: Iterator[tuple[str, dict[str, object]]] = (
        (f"{tag}-{n}", {"secret": stack.secret, "action": "closeall", "symbol": "EURUSD",
                        "instances": [instance], "order_id": f"{tag}-{n}"})
        for n, instance in enumerate(stack.instances)
    )  # fmt: skip
    await send_paced("127.0.0.1", stack.port, closes, 200.0, load=load)
    await drain(results, load, stack)


async def drain(results: Results, load: Load, stack: Stack, within: float = 30.0) -> int:
    """Wait until every accepted signal has its result, at most `within` seconds; returns
    how many are still missing."""
    accepted = [o for o, s in load.sent.items() if s.status == 200]
    deadline = time.perf_counter() + within
    missing = len(accepted)
    while missing and time.perf_counter() < deadline:
        stack.check_alive()
        await asyncio.sleep(0.1)
        missing = sum(1 for o in accepted if o not in results.arrived)
    return missing


def summarize(
    rate: str,
    load: Load,
    results: Results,
    sent_for: float,
    samples: list[tuple[float, int, int]],
    started: float,
) -> dict[str, Any]:
    accepted = {o: s for o, s in load.sent.items() if s.status == 200}
    done = {o: results.arrived[o] for o in accepted if o in results.arrived}
    latencies = [done[o][0] - s.due for o, s in accepted.items() if o in done]
    answers = [s.answered - s.due for s in accepted.values()]
    statuses: dict[str, int] = {}
    for _, status in done.values():
        statuses[status] = statuses.get(status, 0) + 1
    during = [(t, r + e) for t, r, e in samples if t <= started + sent_for]
    finished = max((t for t, _ in done.values()), default=started)
    return {
        "rate": rate,
        "sent": len(load.sent),
        "accepted": len(accepted),
        "refused_http": len(load.sent) - len(accepted),
        "send_errors": load.errors,
        "results": len(done),
        "statuses": statuses,
        "errors": dict(sorted(results.errors.items(), key=lambda e: -e[1])[:10]),
        "achieved_per_s": len(done) / max(finished - started, 1e-9),
        "latency": percentiles(latencies) if len(latencies) > 1 else {},
        "webhook_answer": percentiles(answers) if len(answers) > 1 else {},
        "backlog_max": max((b for _, b in during), default=0),
        "backlog_end_of_sending": during[-1][1] if during else 0,
        "backlog_growth_per_s": _slope(during),
        "backlog": [(round(t - started, 2), r, e) for t, r, e in samples],
    }


def _slope(points: list[tuple[float, int]]) -> float:
    """Least-squares growth of the backlog in entries per second (0 with < 3 samples)."""
    if len(points) < 3:
        return 0.0
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mb = sum(b for _, b in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (b - mb) for t, b in points) / var if var else 0.0


async def run_instances(
    url: str, instances: int, rates: list[str], seconds: float, window: int, layout: str
) -> list[dict[str, Any]]:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-webhook-{instances}-"))
    stack = await start_stack(url, instances, workdir, layout)
    stop_feed = asyncio.Event()
    feeder = asyncio.create_task(feed(url, stop_feed))
    client = aioredis.Redis.from_url(url)
    results = Results(client)
    collector = asyncio.create_task(results.run())
    try:
        window = window or min(256, max(8, 4 * instances))
        await step(stack, results, "50", 1.0, window, f"warm{instances}")  # first orders
        out = []
        for rate in rates:
            await flatten(stack, results, f"flat{instances}r{rate}")
            row = await step(stack, results, rate, seconds, window, f"i{instances}r{rate}")
            out.append({"instances": instances, **row})
            print(_line(out[-1]), flush=True)
        return out
    finally:
        collector.cancel()
        stop_feed.set()
        await asyncio.gather(collector, feeder, return_exceptions=True)
        await client.aclose()
        stack.stop()


def _line(row: dict[str, Any]) -> str:
    lat = row["latency"]
    return (
        f"  {row['instances']:>3} instances @ {row['rate']:>5}/s: {row['achieved_per_s']:7.1f}/s "
        f"p50 {lat.get('p50_ms', 0):7.2f} p99 {lat.get('p99_ms', 0):8.2f} ms, "
        f"backlog max {row['backlog_max']}, growth {row['backlog_growth_per_s']:.1f}/s"
        f"{'' if row['sustained'] else ' NOT SUSTAINED'}"
        f"{' (stopped early)' if row['stopped_early'] else ''}, "
        f"{row['statuses']}, CPU ms/signal "
        + ", ".join(f"{k} {v:.2f}" for k, v in row["cpu_ms_per_signal"].items())
    )


async def main(args: argparse.Namespace) -> None:
    with redis_server(args.port or free_port()) as url:
        chain = await raw_chain(url, 500)
        rates = await raw_rates(url)
        runs = []
        for instances in args.instances:
            runs += await run_instances(
                url, instances, args.rates, args.seconds, args.window, args.layout
            )
    rows = [
        {
            "what": f"raw chain ({ROUND_TRIPS} RTT)",
            "rate": "closed",
            "achieved/s": 0.0,
            "p50": chain["p50_ms"],
            "p95": chain["p95_ms"],
            "p99": chain["p99_ms"],
            "×raw p50": 1.0,
            "×raw p99": 1.0,
            "backlog max": 0,
            "growth/s": 0.0,
        }
    ]
    for run in runs:
        lat = run["latency"] or {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
        rows.append(
            {
                "what": f"eaflow, {run['instances']} inst.",
                "rate": run["rate"],
                "achieved/s": run["achieved_per_s"],
                "p50": lat["p50_ms"],
                "p95": lat["p95_ms"],
                "p99": lat["p99_ms"],
                "×raw p50": lat["p50_ms"] / chain["p50_ms"],
                "×raw p99": lat["p99_ms"] / chain["p99_ms"],
                "backlog max": run["backlog_max"],
                "growth/s": run["backlog_growth_per_s"],
                "sustained": "yes" if run["sustained"] else "no",
            }
        )
    report(
        "webhook",
        "signal → result through the webhook (ms; raw = bare redis-py, same round trips)",
        rows,
        {
            "raw_chain": chain,
            "raw_rates": rates,
            "raw_round_trips": ROUND_TRIPS,
            "layout": args.layout,
            "seconds_per_step": args.seconds,
            "window": args.window,
            "runs": runs,
        },
    )
    print(
        f"raw pipelined XADD {rates['xadd_per_s']:,.0f}/s, "
        f"XREADGROUP+XACK {rates['xreadgroup_ack_per_s']:,.0f}/s"
    )


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the worker processes and Redis like Ctrl-C


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _interrupted)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rates", nargs="+", default=["100", "1000", "max"])
    parser.add_argument("--seconds", type=float, default=8.0, help="sending time per step")
    parser.add_argument(
        "--window", type=int, default=0, help="signals in flight for max (0: 4 per instance)"
    )
    parser.add_argument("--layout", choices=["split", "single"], default="split")
    parser.add_argument("--port", type=int, default=0, help="redis-server port (0: free)")
    asyncio.run(main(parser.parse_args()))
