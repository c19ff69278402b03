"""A moving-average crossover on 1-minute bars, as a Faust app on eaflow's Redis.

    python -m faust -A examples.strategy worker -l info

Ticks come from eaflow (`EaflowFeed` copies `ticks:{symbol}` into the Faust topic
`eaflow-ticks`); each symbol's bars are kept in a tumbling windowed table (event time:
the tick's own); when a bar closes, its close joins the symbol's last closes and a cross
of the fast average over the slow one sends a buy, a cross under it a sell, to eaflow as
alert source `STRATEGY_SOURCE` (`SignalSender`: the source's binding, validation and rate
limit, as a webhook's). Results come back on `eaflow-results` and are counted per status.

Settings (environment): EAFLOW_REDIS_URL (redis://127.0.0.1:6379/0), EAFLOW_PREFIX (ea:),
STRATEGY_SYMBOLS (EURUSD), STRATEGY_SOURCE (strategy), STRATEGY_BAR (60 s), STRATEGY_FAST
(5 bars), STRATEGY_SLOW (20 bars), STRATEGY_VOLUME (0.01 lots), STRATEGY_PARTITIONS (4).
"""

from __future__ import annotations

import os
from typing import Any

import faust
from faust.types import StreamT

from eaflow.faust.feed import EaflowFeed
from eaflow.faust.signals import SignalRefused, SignalSender

REDIS_URL = os.environ.get("EAFLOW_REDIS_URL", "redis://127.0.0.1:6379/0")
PREFIX = os.environ.get("EAFLOW_PREFIX", "ea:")
SYMBOLS = os.environ.get("STRATEGY_SYMBOLS", "EURUSD").split(",")
SOURCE = os.environ.get("STRATEGY_SOURCE", "strategy")
BAR = float(os.environ.get("STRATEGY_BAR", "60"))
FAST = int(os.environ.get("STRATEGY_FAST", "5"))
SLOW = int(os.environ.get("STRATEGY_SLOW", "20"))
VOLUME = os.environ.get("STRATEGY_VOLUME", "0.01")

app = faust.App(
    "eaflow-strategy",
    broker=f"{REDIS_URL}{'&' if '?' in REDIS_URL else '?'}prefix=faust:",
    store="memory://",
    topic_partitions=int(os.environ.get("STRATEGY_PARTITIONS", "4")),
)
feed = EaflowFeed(app, symbols=SYMBOLS, prefix=PREFIX)

# The bar of each symbol in each window: open, high, low, close, ticks.
bars = app.Table("bars", default=dict).tumbling(BAR, expires=BAR * (SLOW + 2))
# Per symbol: start of the bar last seen, the last SLOW closes, the side of the last cross.
state = app.Table("state", default=dict)
# Results of this strategy's signals, per status.
outcomes = app.Table("outcomes", default=int)

signals = SignalSender(REDIS_URL, source=SOURCE, prefix=PREFIX)


def average(values: list[float]) -> float:
    return sum(values) / len(values)


def crossing(closes: list[float]) -> str | None:
    """'buy' when the fast average has just crossed over the slow one, 'sell' under."""
    if len(closes) < SLOW + 1:
        return None
    before = average(closes[-FAST - 1 : -1]) - average(closes[-SLOW - 1 : -1])
    now = average(closes[-FAST:]) - average(closes[-SLOW:])
    if before <= 0 < now:
        return "buy"
    if before >= 0 > now:
        return "sell"
    return None


async def close_bar(symbol: str, start: float, close: float, seen: dict[str, Any]) -> None:
    closes = [*seen.get("closes", []), close][-(SLOW + 1) :]
    seen["closes"] = closes
    side = crossing(closes)
    if side is None:
        return
    seen["side"] = side
    try:
        signal_id = await signals.send(
            signal_id=f"ma-{symbol}-{int(start)}",  # the same bar sends the same signal
            symbol=symbol,
            order_type=side,
            volume=VOLUME,
            comment=f"ma {FAST}/{SLOW} {side}",
        )
    except SignalRefused as refused:
        app.log.error("signal refused: %s", refused)
    else:
        app.log.info("sent %s %s (%s)", side, symbol, signal_id)


@app.agent(feed.ticks)
async def trade(ticks: StreamT[Any]) -> None:
    async for event in ticks.events():
        tick: dict[str, Any] = event.value
        symbol = tick["symbol"]
        price = (tick["bid"] + tick["ask"]) / 2
        start = (event.message.timestamp // BAR) * BAR
        seen = dict(state[symbol])
        last = seen.get("bar")
        if last is not None and start > last:
            previous = bars[symbol].delta(start - last)
            if previous:
                await close_bar(symbol, last, previous["c"], seen)
        bar = dict(bars[symbol].current())
        if not bar:
            bar = {"o": price, "h": price, "l": price, "c": price, "n": 0}
        bar.update(h=max(bar["h"], price), l=min(bar["l"], price), c=price, n=bar["n"] + 1)
        bars[symbol] = bar
        seen["bar"] = start
        state[symbol] = seen


@app.agent(feed.results)
async def results(stream: StreamT[Any]) -> None:
    async for result in stream:
        if result.get("source") == SOURCE:
            outcomes[result["status"]] += 1
            app.log.info(
                "result %s %s on %s: %s", result["status"], result.get("symbol"),
                result["instance"], result.get("error") or result.get("retcode_name") or "",
            )  # fmt: skip


@app.timer(10.0)  # type: ignore[untyped-decorator]
async def report() -> None:
    app.log.info("strategy: %s", dict(outcomes.items()))
