"""A real gateway: uvicorn on a free loopback port in its own thread and event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import orjson
import redis
import redis.asyncio as aioredis

from eaflow.config.service import ConfigService
from eaflow.config.store import ConfigStore
from eaflow.gateway.app import create_app
from eaflow.gateway.config import GatewayConfig
from eaflow.gateway.server import GatewayServer
from eaflow.gateway.sources import Source
from model.topics import Topics
from processors.registry import InstanceRegistry
from streams import App, AppSettings
from streams.durable import Durability

PREFIX = "ea:"
SECRET = "test-secret-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {VIEWER}"}  # opens the read paths
UNCAPPED = {"refusals_per_minute": 100_000, "refusals_recorded_per_minute": 100_000}


def _load_anyio() -> None:
    """Import anyio's lazily loaded parts now, on pytest's thread. anyio parses source
    with `ast` when a part is first used (Starlette's FileResponse uses `open_file`), and
    CPython 3.11 counts `ast` depth per interpreter, not per thread (gh-106905): a parse
    in the server thread beside one on pytest's thread raised SystemError in CI."""
    for name in dir(anyio):
        getattr(anyio, name)


_load_anyio()


@dataclass
class Served:
    url: str
    client: redis.Redis
    servers: list[GatewayServer] = field(default_factory=list)

    @property
    def webhook(self) -> str:
        return f"{self.url}/webhook/tradingview"

    def entries(self, stream: str) -> list[dict[str, Any]]:
        """The JSON values of a stream (`rtss`, `security`...), oldest first."""
        found: Any = self.client.xrange(f"{PREFIX}{stream}")
        return [orjson.loads(fields[b"d"]) for _, fields in found]

    def signals(self) -> list[dict[str, Any]]:
        """Everything the gateway wrote to `rtss`."""
        return self.entries("rtss")

    def security_events(self) -> list[dict[str, Any]]:
        return self.entries("security")

    def add_source(self, **fields: Any) -> Source:
        source = Source.model_validate({"secret": SECRET, **fields})
        self.client.hset(f"{PREFIX}sources", source.name, source.model_dump_json())
        return source


@contextmanager
def serving(
    redis_url: str,
    config: GatewayConfig | None = None,
    config_db: Path | None = None,
    durability: Durability | None = None,
) -> Iterator[Served]:
    """Serve the gateway until the block ends; the source `tradingview` has SECRET, the
    viewer token is VIEWER (unless `config` names one); with `config_db`, the configuration
    API on that DuckDB file too; with `durability`, signals wait for replicas. The default
    `config` records every refusal (a module's tests share one gateway and its count of
    refusals per minute)."""
    config = config or GatewayConfig(port=0, symbols_ttl=0, **UNCAPPED)
    if config.viewer_token is None:
        config = config.model_copy(update={"viewer_token": VIEWER})
    started = threading.Event()
    holder: list[GatewayServer] = []
    failure: list[BaseException] = []

    async def main() -> None:
        client = aioredis.Redis.from_url(redis_url)
        streams = App(AppSettings(redis_url=redis_url, prefix=PREFIX))
        service = None
        if config_db is not None:
            service = ConfigService(ConfigStore(config_db), InstanceRegistry(client, PREFIX))
        app = create_app(client, Topics(streams), config, settings=service, durability=durability)
        server = GatewayServer(app, "127.0.0.1", config.port)
        holder.append(server)
        task = asyncio.ensure_future(server.run())
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn has a flag only
            await asyncio.sleep(0.01)
        started.set()
        try:
            await task
        finally:
            await app.state.gateway.live.close()
            await app.state.console.close()
            await client.aclose()
            await streams.redis.aclose()

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # reported to the test below
            failure.append(error)
            started.set()

    thread = threading.Thread(target=thread_main, name="gateway", daemon=True)
    thread.start()
    if not started.wait(10) or failure:
        raise RuntimeError(f"gateway did not start: {failure}")
    client = redis.Redis.from_url(redis_url)
    served = Served(url=f"http://127.0.0.1:{holder[0].port}", client=client, servers=holder)
    served.add_source(name="tradingview")
    try:
        yield served
    finally:
        holder[0].server.should_exit = True
        thread.join(10)
        client.close()
