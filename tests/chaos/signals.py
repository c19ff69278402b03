"""The signals a chaos run drives, and the sender that pushes them through `eaflow send`."""

from __future__ import annotations

import random
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from model import OrderStatus
from tests.e2e.workers import eaflow

SYMBOLS = ("EURUSD", "NZDUSD", "XAUUSD")
LIMIT_PRICES = {"EURUSD": "1.25000", "NZDUSD": "0.78000", "XAUUSD": "1100.00"}
"""Buy limits far below the market: placed, never filled (the market does not move)."""


def expected_status(signal: dict[str, object]) -> OrderStatus:
    """What a signal of `make_signals` ends in when nothing breaks."""
    if signal["volume"] != "0.01":
        return OrderStatus.REJECTED
    return OrderStatus.PLACED if signal["order_type"] == "buy_limit" else OrderStatus.FILLED


def make_signals(seed: int, count: int, instances: list[str]) -> list[dict[str, object]]:
    """Each signal targets one instance: 85 % market orders (filled), 10 % buy limits
    (placed), 5 % volumes off the 0.01 step (rejected by the router)."""
    rng = random.Random(seed ^ 0x5EED)
    signals: list[dict[str, object]] = []
    for n in range(count):
        symbol = rng.choice(SYMBOLS)
        signal: dict[str, object] = {
            "signal_id": f"s{seed}-{n}",
            "order_id": f"c{seed}-{n}",
            "symbol": symbol,
            "instances": [instances[n % len(instances)]],
            "source": "chaos",
        }
        roll = rng.random()
        if roll < 0.85:
            signal |= {"order_type": rng.choice(("buy", "sell")), "volume": "0.01"}
        elif roll < 0.95:
            signal |= {"order_type": "buy_limit", "volume": "0.01", "price": LIMIT_PRICES[symbol]}
        else:
            signal |= {"order_type": "buy", "volume": "0.015"}
        signals.append(signal)
    return signals


@dataclass
class Sender:
    """Sends batches with `eaflow send -` one after another, in a thread; a failed send
    (Redis restarting) is sent again whole, as a client retrying would, and every
    `repeat_every`-th batch is sent twice on purpose (a client whose reply was lost), so
    signals, rejected ones included, reach `rtss` twice — the pipeline must still give
    each one result and execute each order once."""

    redis_url: str
    signals: list[dict[str, object]]
    batch: int
    pause: float
    log: Path
    repeat_every: int = 5
    batches_done: int = 0
    sends: int = 0
    failed_sends: int = 0
    repeated: int = 0  # batches sent twice on purpose
    error: BaseException | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-sender", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def _run(self) -> None:
        try:
            for start in range(0, len(self.signals), self.batch):
                batch = self.signals[start : start + self.batch]
                self._send(batch)
                self.batches_done += 1
                if self.batches_done % self.repeat_every == 0:
                    self._send(batch)
                    self.repeated += 1
                if self._stop.wait(self.pause):
                    return
        except BaseException as error:  # reported by the test, which owns the thread
            self.error = error

    def _send(self, batch: list[dict[str, object]]) -> None:
        body = orjson.dumps(batch).decode()
        while not self._stop.is_set():
            self.sends += 1
            try:
                sent = eaflow("send", "-", "--redis", self.redis_url, input=body, timeout=60)
            except subprocess.TimeoutExpired:
                sent = None
            if sent is not None and sent.returncode == 0:
                return
            self.failed_sends += 1
            with self.log.open("a") as handle:
                handle.write(
                    f"{time.time():.3f} send failed: {sent.stderr if sent else 'timeout'}\n"
                )
            self._stop.wait(0.5)
