"""`App`: builds topics, agents, timers and tasks on one Redis, and starts and stops them."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, overload

import structlog
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff

from streams.agent import Agent, Concurrency, Mode
from streams.clients import async_client
from streams.codecs import JsonCodec
from streams.handlers import BatchHandler, ColumnsHandler, Handler, StreamsHandler
from streams.settings import AppSettings
from streams.table import TableConfig, TickTable
from streams.timer import Task, Timer
from streams.topic import Topic
from streams.types import Codec, Service, T, TaskFunction

log = structlog.get_logger(__name__)


def connect(settings: AppSettings) -> Redis:
    """The app's client: RESP2 replies as bytes; a command on a dropped connection is retried
    twice, quickly (longer outages are the agents' own retry loop's business)."""
    backoff = ExponentialWithJitterBackoff(
        base=settings.reconnect_initial, cap=settings.reconnect_max
    )
    return async_client(
        settings.redis_url,
        protocol=2,
        socket_timeout=settings.socket_timeout,
        socket_connect_timeout=settings.socket_timeout,
        retry=Retry(backoff, 2),
    )


class App:
    """Faust's programming model on Redis Streams.

    Example::

        app = App(AppSettings(redis_url="redis://127.0.0.1:6379/0", prefix="ea:"))
        rtss = app.topic("rtss", codec=ModelCodec(Signal))

        @app.agent(rtss, group="router")
        async def route(event: Event[Signal], out: Outbox) -> None:
            out.send(orders, make_order(event.value))

        app.run()
    """

    def __init__(self, settings: AppSettings | None = None) -> None:
        self.settings = settings or AppSettings()
        self.redis = connect(self.settings)
        self.agents: list[Agent] = []
        self.timers: list[Timer] = []
        self.tasks: list[Task] = []
        self._started: list[Service] = []

    @overload
    def topic(self, name: str, *, maxlen: int | None = None) -> Topic[Any]: ...

    @overload
    def topic(self, name: str, *, codec: Codec[T], maxlen: int | None = None) -> Topic[T]: ...

    def topic(
        self, name: str, *, codec: Codec[Any] | None = None, maxlen: int | None = None
    ) -> Topic[Any]:
        """The stream `{prefix}{name}`; JSON unless a codec is given; `maxlen` caps it (~)."""
        return Topic(
            name, codec or JsonCodec(), prefix=self.settings.prefix, redis=self.redis, maxlen=maxlen
        )

    @overload
    def agent(
        self,
        topics: Topic[T] | Sequence[Topic[T]],
        *,
        group: str,
        batch: Literal[False] = False,
        dlq: bool = True,
        batch_size: int | None = None,
        concurrency: Concurrency = "per_stream",
        start_id: str | None = None,
        name: str | None = None,
        exclusive: bool = False,
    ) -> Callable[[Handler[T]], Agent]: ...

    @overload
    def agent(
        self,
        topics: Topic[T] | Sequence[Topic[T]],
        *,
        group: str,
        batch: Literal[True],
        dlq: bool = True,
        batch_size: int | None = None,
        concurrency: Concurrency = "per_stream",
        start_id: str | None = None,
        name: str | None = None,
    ) -> Callable[[BatchHandler[T]], Agent]: ...

    @overload
    def agent(
        self,
        topics: Topic[T] | Sequence[Topic[T]],
        *,
        group: str,
        batch: Literal["streams"],
        dlq: bool = True,
        batch_size: int | None = None,
        concurrency: Concurrency = "per_stream",
        start_id: str | None = None,
        name: str | None = None,
        exclusive: bool = False,
    ) -> Callable[[StreamsHandler[T]], Agent]: ...

    @overload
    def agent(
        self,
        topics: Topic[T] | Sequence[Topic[T]],
        *,
        group: str,
        batch: Literal["columns"],
        dlq: bool = True,
        batch_size: int | None = None,
        concurrency: Concurrency = "per_stream",
        start_id: str | None = None,
        name: str | None = None,
    ) -> Callable[[ColumnsHandler], Agent]: ...

    def agent(
        self,
        topics: Topic[Any] | Sequence[Topic[Any]],
        *,
        group: str,
        batch: Mode = False,
        dlq: bool = True,
        batch_size: int | None = None,
        concurrency: Concurrency = "per_stream",
        start_id: str | None = None,
        name: str | None = None,
        exclusive: bool = False,
    ) -> Callable[[Any], Agent]:
        """Decorator: run the handler over `topics` as consumer group `group`.

        `batch=True` hands the whole batch to the handler, all or nothing (sinks);
        `batch="streams"` hands it the whole batch as a `streams.Batch`, with a verdict per
        event and one commit unit per stream (the executor); `batch="columns"` hands it the
        whole batch undecoded, ids and payloads per stream (`streams.Columns`), all or
        nothing (the ticks agent, which decodes them in bulk). `dlq=False` retries failures
        forever instead of dead-lettering them (sinks that must not lose results).
        `exclusive=True`: one live consumer of the group at a time works each stream, in
        stream order across crashes (streams/lease.py; the router, the executor).
        """
        listed = [topics] if isinstance(topics, Topic) else list(topics)

        def register(
            fn: Handler[Any] | BatchHandler[Any] | StreamsHandler[Any] | ColumnsHandler,
        ) -> Agent:
            agent = Agent(
                self.redis,
                self.settings,
                listed,
                fn,
                group=group,
                batch=batch,
                dlq=dlq,
                batch_size=batch_size,
                concurrency=concurrency,
                start_id=start_id,
                name=name,
                exclusive=exclusive,
            )
            self.agents.append(agent)
            return agent

        return register

    def table(self, name: str, config: TableConfig | None = None) -> TickTable:
        """A tick table over the streams `{prefix}{name}:{symbol}`, e.g. `app.table("ticks")`."""
        prefix = f"{self.settings.prefix}{name}:"
        return TickTable(self.redis, lambda symbol: prefix + symbol, config)

    def timer(
        self, interval: float, *, name: str | None = None
    ) -> Callable[[TaskFunction], TaskFunction]:
        """Decorator: call the coroutine function every `interval` seconds while running."""

        def register(fn: TaskFunction) -> TaskFunction:
            self.timers.append(Timer(fn, interval, name))
            return fn

        return register

    def task(self, fn: TaskFunction, *, name: str | None = None) -> TaskFunction:
        """Run `fn()` in the background from start to stop; usable as a decorator. If it
        raises it is logged and restarted with backoff (`task_restart_initial` doubling up
        to `task_restart_max`): a failed task never stays dead while the app runs."""
        settings = self.settings
        self.tasks.append(
            Task(
                fn,
                name,
                restart_initial=settings.task_restart_initial,
                restart_max=settings.task_restart_max,
            )
        )
        return fn

    async def send(self, topic: Topic[T], value: T) -> str:
        """Append `value` to `topic`; returns the entry id."""
        return await topic.send(value)

    async def send_many(self, topic: Topic[T], values: Iterable[T]) -> list[str]:
        """Append `values` in one pipelined round trip; returns their ids in order."""
        return await topic.send_many(values)

    async def start(self) -> None:
        """Create the consumer groups and start agents, timers and tasks."""
        services: list[Service] = [*self.agents, *self.timers, *self.tasks]
        for service in services:
            await service.start()
            self._started.append(service)
        log.info(
            "app.started",
            app=self.settings.name,
            agents=len(self.agents),
            timers=len(self.timers),
            tasks=len(self.tasks),
        )

    async def stop(self) -> None:
        """Graceful: agents finish and commit the batch in hand; timers and tasks are
        cancelled; connections are closed."""
        started, self._started = self._started, []
        starting = [agent for agent in self.agents if agent not in started]  # waiting for Redis
        await asyncio.gather(*(service.stop() for service in [*started, *starting]))
        await self.redis.aclose()
        log.info("app.stopped", app=self.settings.name)

    def run(self) -> None:
        """Run until SIGINT or SIGTERM, then stop gracefully. Blocking; used by the CLI."""
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
        starting = asyncio.create_task(self.start())
        waiting = asyncio.create_task(stopping.wait())
        try:  # a signal also ends a start that is still waiting for Redis
            await asyncio.wait({starting, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()
                await waiting
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
            waiting.cancel()
            await self.stop()
            if not starting.done():
                with contextlib.suppress(Exception):
                    await starting
