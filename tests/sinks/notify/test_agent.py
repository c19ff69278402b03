"""The notifier on a real Redis, sending through Apprise's json:// to a real HTTP receiver
started by the test: exactly the messages its rules call for, and none lost while the
receiver is down, across a restart of the notifier too."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from eaflow.install.notify import notify_config
from eaflow.settings import Settings
from model import InstanceReport, InstanceStatus, OrderStatus, ReportKind, Result
from model.topics import Topics
from sinks.notify.agent import GROUP, Notifier
from sinks.notify.config import NotifyConfig
from sinks.notify.sender import AppriseSender
from streams import App, AppSettings, Topic
from tests.sinks.conftest import fill
from tests.sinks.notify.receiver import Receiver
from tests.sinks.test_install import FAST, until
from tests.tools import missing


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    if importlib.util.find_spec("apprise") is None:
        missing("apprise", "pip install 'eaflow[notify]'")
    found = Receiver()
    yield found
    found.close()


class Run:
    """An app running the notifier of `config` on the test Redis."""

    def __init__(self, redis_url: str, config: NotifyConfig) -> None:
        self.app = App(AppSettings.model_validate({"redis_url": redis_url, **FAST}))
        self.topics = Topics(self.app)
        notifier = Notifier(AppriseSender(config.urls), config)
        topics: list[Topic[Any]] = [self.topics.rtrs, self.topics.ris]
        self.app.agent(
            topics, group=GROUP, batch=True, dlq=False, start_id="$", batch_size=config.batch_size
        )(notifier.handle)


@pytest.fixture
async def r(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def rejected(n: int, signal: str) -> Result:
    update = {"status": OrderStatus.REJECTED, "field": "risk.daily_loss", "error": "halted"}
    return fill(n, instance=f"acct-{n:03d}", signal_id=signal).model_copy(update=update)


def event(kind: ReportKind) -> dict[str, Any]:
    report = InstanceReport(instance="acct-001", kind=kind, status=InstanceStatus.RUNNING)
    return report.model_dump(mode="json")


async def pending(r: aioredis.Redis) -> int:
    total = 0
    for key in ("t:rtrs", "t:ris"):
        summary: Any = await r.xpending(key, GROUP)
        total += int(summary["pending"])
    return total


async def test_a_broadcast_and_an_event_are_two_messages_fills_and_heartbeats_none(
    redis_url: str, receiver: Receiver, r: aioredis.Redis
) -> None:
    run = Run(redis_url, NotifyConfig(urls=(receiver.url,)))
    await run.app.start()  # a new group starts at the end: what comes from now on
    broadcast = [fill(n, instance=f"acct-{n:03d}", signal_id="b1") for n in range(198)]
    broadcast += [rejected(n, "b1") for n in (198, 199)]
    quiet = [fill(n, signal_id="quiet") for n in range(3)]
    await run.app.send_many(run.topics.rtrs, [*broadcast, *quiet])  # one round trip
    await run.app.send_many(
        run.topics.ris, [event(ReportKind.HEARTBEAT), event(ReportKind.CRASHED)]
    )
    try:
        await until(lambda: _is(len(receiver.bodies) >= 2), "two messages")
        await until(lambda: _zero(pending(r)), "every entry acked")
        await asyncio.sleep(0.3)  # nothing more comes
    finally:
        await run.app.stop()
    titles = sorted(b["title"] for b in receiver.bodies)
    assert titles == [
        "eaflow: 1 instance event",
        "eaflow: open EURUSD from tradingview: filled 198, rejected 2",
    ]
    [events] = [b for b in receiver.bodies if "instance event" in b["title"]]
    assert (events["message"], events["type"]) == ("acct-001: crashed (running)", "warning")


async def test_nothing_is_lost_while_the_receiver_is_down_nor_across_a_restart(
    redis_url: str, receiver: Receiver, r: aioredis.Redis
) -> None:
    config = NotifyConfig(urls=(receiver.url,), min_interval=0)
    receiver.down = True
    first = Run(redis_url, config)
    await first.app.start()
    await first.app.send_many(first.topics.rtrs, [rejected(1, "o1")])
    try:
        await until(lambda: _is(receiver.refused >= 2), "the notifier to try twice")
    finally:
        await first.app.stop()  # the notifier stops with its batch unacked
    assert await pending(r) == 1 and receiver.bodies == []

    receiver.down = False
    second = Run(redis_url, config)
    await second.app.send_many(second.topics.rtrs, [rejected(2, "o2")])
    await second.app.start()
    try:
        await until(lambda: _zero(pending(r)), "every entry acked")
        await until(lambda: _is(len(receiver.bodies) >= 2), "both messages")
    finally:
        await second.app.stop()
    assert sorted(b["message"].splitlines()[0] for b in receiver.bodies) == [
        "signal o1",
        "signal o2",
    ]


def test_the_settings_choose_urls_results_and_instances() -> None:
    assert notify_config(Settings()) is None
    config = notify_config(
        Settings(notify_urls="json://a/hook, tgram://t/c", notify_instances="demo-1,demo-2")
    )
    assert config is not None
    assert (config.urls, config.instances) == (
        ("json://a/hook", "tgram://t/c"),
        ("demo-1", "demo-2"),
    )
    with pytest.raises(ValueError, match="notify_results: Input should be 'failures', 'all'"):
        notify_config(Settings(notify_urls="json://a/hook", notify_results="some"))


async def _is(value: bool) -> bool:
    return value


async def _zero(count: Awaitable[int]) -> bool:
    return await count == 0
