"""A worker process for the crash tests: copies t:in to t:out; hangs or dies at a cue value.

Usage: python -m tests.streams.crash_worker REDIS_URL hang|kill CUE_JSON MAX_DELIVERIES

Before hanging or dying it sets key t:cue to the entry's id.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import orjson

from streams import App, AppSettings, Event, Outbox


def main(url: str, action: str, cue: object, max_deliveries: int) -> None:
    app = App(
        AppSettings(
            redis_url=url, prefix="t:", start_id="0", batch_size=5, block_ms=50,
            claim_min_idle_ms=0, claim_interval=0.05, max_deliveries=max_deliveries,
        )
    )  # fmt: skip
    source, sink = app.topic("in"), app.topic("out")

    @app.agent(source, group="g")
    async def copy(event: Event[object], out: Outbox) -> None:
        if event.value == cue:
            await app.redis.set("t:cue", event.id)
            if action == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            await asyncio.sleep(3600)
        out.send(sink, event.value)

    app.run()


if __name__ == "__main__":
    url, action, cue, max_deliveries = sys.argv[1:]
    main(url, action, orjson.loads(cue), int(max_deliveries))
