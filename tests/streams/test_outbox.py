"""Outbox: the commands a handler's success will run."""

from __future__ import annotations

import pytest

from streams import App, Outbox


def test_send_and_call_collect_commands(app: App) -> None:
    ticks = app.topic("ticks:EURUSD", maxlen=1000)
    orders = app.topic("orders:a")
    out = Outbox()
    out.send(orders, {"id": "o1"})
    out.send(ticks, {"bid": 1.1})
    out.call("HSET", "t:orec:a", "o1", "sent")
    out.once("t:orec:a", "o2", "rejected")
    assert out.commands == [
        ("XADD", "t:orders:a", "*", b"d", b'{"id":"o1"}'),
        ("XADD", "t:ticks:EURUSD", "MAXLEN", "~", 1000, "*", b"d", b'{"bid":1.1}'),
        ("HSET", "t:orec:a", "o1", "sent"),
        ("ONCE", "t:orec:a", "o2", "rejected"),
    ]
    assert len(out) == 4


def test_call_needs_a_command_name() -> None:
    with pytest.raises(ValueError, match="command: must be a non-empty command name"):
        Outbox().call("")


@pytest.mark.parametrize("bad", [None, True, {"a": 1}])
def test_call_refuses_arguments_redis_cannot_take(bad: object) -> None:
    """Caught in the handler (a retryable failure), not at commit time."""
    with pytest.raises(TypeError, match=r"args\[2\]: must be str, bytes, int or float"):
        Outbox().call("HSET", "key", bad, "x")  # type: ignore[arg-type]
