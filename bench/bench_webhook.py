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
of round trips and stream hops with bare redis-py calls (a router and an executor process,
one stream per instance, one entry at a time), under the same load as eaflow: each step's
rate (or `max` window), instances and sending time, open loop, latency from when each
signal was due, the same backlog limit; the sender XADDs the signals straight into the
raw `rtss` (no HTTP: eaflow's figures include the gateway's answer, `webhook_answer` in
the JSON). Also the same chain in a closed loop on an idle machine, and pipelined
XADD/XREADGROUP rates.

    python -m bench.bench_webhook [--instances 1 10 100] [--rates 100 1000 max] [--seconds 8]
        [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import redis.asyncio as aioredis

from bench.common import percentiles, redis_server, report, slope, smoke_mode, stop_tasks
from bench.loadgen import Load, Sent, send_paced, xadd_paced
from bench.raw import RAW, ROUND_TRIPS, raw_chain, raw_rates
from bench.stack import Results, Stack, backlog, feed, spawn, start_stack
from tests.redis_server import free_port


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
    results.start_step(f"{tag}-")
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
    during = [(t, float(r + e)) for t, r, e in samples if t <= started + sent_for]
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
        "backlog_max": int(max((b for _, b in during), default=0)),
        "backlog_end_of_sending": int(during[-1][1]) if during else 0,
        "backlog_growth_per_s": slope(during),
        "backlog": [(round(t - started, 2), r, e) for t, r, e in samples],
    }


async def raw_under_load(
    url: str, instances: int, rates: list[str], seconds: float, window: int
) -> list[dict[str, Any]]:
    """The raw chain as two processes (bench/raw.py `serve`), fed as eaflow is: per rate,
    an open-loop step (or `max` with `window` in flight) for `seconds`."""
    names = [f"demo-{n}" for n in range(1, instances + 1)]
    admin = aioredis.Redis.from_url(url)
    await admin.flushall()
    stack = Stack(url, 0, "", names, logs=Path(tempfile.mkdtemp(prefix="bench-webhook-raw-")))
    for role, extra in (("router", []), ("executor", names)):
        spawn(stack, role, [sys.executable, "-m", "bench.raw", role, url, *extra])
    results = Results(aioredis.Redis.from_url(url), stream=f"{RAW}rtrs")
    collector = asyncio.create_task(results.run())
    try:
        streams = [f"{RAW}rtss", *(f"{RAW}orders:{n}" for n in names)]
        while not await _have_groups(admin, streams):
            stack.check_alive()
            await asyncio.sleep(0.1)
        window = window or min(256, max(8, 4 * instances))
        await raw_step(stack, results, "50", 1.0, window, f"rawwarm{instances}")
        out = []
        for rate in rates:
            row = await raw_step(stack, results, rate, seconds, window, f"raw{instances}r{rate}")
            out.append({"instances": instances, **row})
            print("  raw " + _line(out[-1]).strip(), flush=True)
        return out
    finally:
        await stop_tasks([collector])
        await results.client.aclose()
        await admin.aclose()
        stack.stop()


async def _have_groups(client: aioredis.Redis, streams: list[str]) -> bool:
    """Whether every stream has its group yet: one pipelined round trip (a gather of one
    call per stream took more connections than the pool has at 100 instances)."""
    pipe = client.pipeline(transaction=False)
    for stream in streams:
        pipe.xinfo_groups(stream)
    replies = await pipe.execute(raise_on_error=False)
    return all(not isinstance(r, Exception) and bool(r) for r in replies)


async def raw_step(
    stack: Stack, results: Results, rate: str, seconds: float, window: int, tag: str
) -> dict[str, Any]:
    """`step` for the raw chain: XADDs into its `rtss` at `rate` (or as results free the
    `window`), the same backlog limit, latency from when each signal was due."""
    client = aioredis.Redis.from_url(stack.url)
    overload = max(300, int(float(rate))) if rate != "max" else 10 * window
    load, overloaded = Load(), asyncio.Event()
    samples: list[tuple[float, int, int]] = []
    results.start_step(f"{tag}-")

    async def sample() -> None:
        while True:
            in_flight = len(load.sent) - results.tagged
            samples.append((time.perf_counter(), in_flight, 0))
            if in_flight > overload:
                overloaded.set()
            await asyncio.sleep(0.5)

    def signals(count: int) -> Iterator[tuple[str, bytes]]:
        for j in range(count):
            order_id = f"{tag}-{j}"
            instance = stack.instances[j % len(stack.instances)]
            yield order_id, orjson.dumps({"order_id": order_id, "instances": [instance]})

    sampler = asyncio.create_task(sample())
    cpu_before = stack.cpu_seconds()
    started = time.perf_counter()
    if rate == "max":
        for order_id, body in signals(1_000_000):
            if time.perf_counter() >= started + seconds:
                break
            while len(load.sent) - results.tagged >= window:
                results.freed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(results.freed.wait(), 1.0)
                stack.check_alive()
            load.sent[order_id] = Sent(time.perf_counter())
            fields: Any = {"d": body}
            await client.xadd(f"{RAW}rtss", fields)
            load.answered += 1
            load.sent[order_id].status = 200
    else:
        planned = signals(int(float(rate) * seconds))
        await xadd_paced(client, f"{RAW}rtss", planned, float(rate), load, overloaded)
    sent_for = time.perf_counter() - started
    left = await drain(results, load, stack)
    cpu = {k: v - cpu_before[k] for k, v in stack.cpu_seconds().items()}
    await stop_tasks([sampler])
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
        stop_feed.set()
        await stop_tasks([collector])
        await asyncio.gather(feeder, return_exceptions=True)
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
        chain = await raw_chain(url, args.chain)
        rates = await raw_rates(url, args.rate_messages)
        runs, raw_runs = [], []
        for instances in args.instances:
            raw_runs += await raw_under_load(url, instances, args.rates, args.seconds, args.window)
            runs += await run_instances(
                url, instances, args.rates, args.seconds, args.window, args.layout
            )
    rows = [
        {
            "what": f"raw chain ({ROUND_TRIPS} RTT), closed loop, idle",
            "rate": "closed",
            "achieved/s": 0.0,
            "p50": chain["p50_ms"],
            "p95": chain["p95_ms"],
            "p99": chain["p99_ms"],
            "backlog max": 0,
            "growth/s": 0.0,
        }
    ]
    raw_at = {(r["instances"], r["rate"]): r for r in raw_runs}
    for run in runs:
        raw = raw_at.get((run["instances"], run["rate"]))
        for what, row in (("raw chain", raw), ("eaflow", run)):
            if row is None:
                continue
            lat = row["latency"] or {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
            entry: dict[str, Any] = {
                "what": f"{what}, {row['instances']} inst.",
                "rate": row["rate"],
                "achieved/s": row["achieved_per_s"],
                "p50": lat["p50_ms"],
                "p95": lat["p95_ms"],
                "p99": lat["p99_ms"],
            }
            raw_lat = (raw or {}).get("latency") or {}
            if what == "eaflow" and raw_lat.get("p50_ms"):
                entry["×raw p50"] = lat["p50_ms"] / raw_lat["p50_ms"]
                entry["×raw p99"] = lat["p99_ms"] / raw_lat["p99_ms"]
            entry.update(
                {
                    "backlog max": row["backlog_max"],
                    "growth/s": row["backlog_growth_per_s"],
                    "sustained": "yes" if row["sustained"] else "no",
                }
            )
            rows.append(entry)
    report(
        "webhook",
        "signal → result through the webhook (ms; raw chain = bare redis-py, same round trips, "
        "same load; ×raw at the same instances and rate)",
        rows,
        {
            "raw_chain": chain,
            "raw_runs": raw_runs,
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
    parser.add_argument("--chain", type=int, default=500, help="closed-loop raw chain signals")
    parser.add_argument("--rate-messages", type=int, default=50_000, help="raw rates' messages")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if smoke_mode(args.smoke):
        args.instances, args.rates, args.seconds = [2], ["50", "max"], 1.0
        args.chain, args.rate_messages = 50, 2000
    asyncio.run(main(args))
