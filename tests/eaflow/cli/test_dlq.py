"""`eaflow dlq` on a real Redis, as an operator types it."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import redis
from typer.testing import CliRunner

from eaflow.cli.main import app


@pytest.fixture
def cli(redis_url: str) -> CliRunner:
    return CliRunner(env={"EAFLOW_REDIS_URL": redis_url})


def dead_letter(client: redis.Redis, stream: str, data: bytes, error: str = "boom") -> str:
    """A DLQ entry as the runtime writes it (streams/dlq.py)."""
    fields = {
        "d": data,
        "stream": f"ea:{stream}",
        "group": "router",
        "id": "1700000000000-0",
        "error": error,
        "deliveries": 5,
        "ts": 1_700_000_000_000,
    }
    entry_id = client.xadd(f"ea:dlq:{stream}", fields)  # type: ignore[arg-type]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


def test_list_show_retry_purge(cli: CliRunner, redis_client: redis.Redis) -> None:
    assert cli.invoke(app, ["dlq", "list"]).output.strip() == "no dead letters"
    first = dead_letter(redis_client, "rtss", b'{"symbol": "EURUSD"}', "ResponseError: WRONGTYPE")
    dead_letter(redis_client, "rtss", b"{broken")
    dead_letter(redis_client, "orders:demo-1", b"{}")

    listed = orjson.loads(cli.invoke(app, ["dlq", "list", "--json"]).output)
    assert [(q["name"], q["count"]) for q in listed] == [("orders:demo-1", 1), ("rtss", 2)]
    table = cli.invoke(app, ["dlq", "list"]).output
    assert "rtss" in table and "2023-11-14 22:13:20" in table

    shown = orjson.loads(cli.invoke(app, ["dlq", "show", "rtss", "--json"]).output)
    assert [(s["error"], s["deliveries"], s["data"]) for s in shown] == [
        ("ResponseError: WRONGTYPE", 5, '{"symbol": "EURUSD"}'),
        ("boom", 5, "{broken"),
    ]
    text = cli.invoke(app, ["dlq", "show", "rtss", "--count", "1"]).output
    assert "WRONGTYPE" in text and "{broken" not in text

    retried = cli.invoke(app, ["dlq", "retry", "rtss", first])
    assert retried.exit_code == 0, retried.output
    assert f"{first} → ea:rtss" in retried.output and "retried 1 of 1" in retried.output
    entries: Any = redis_client.xrange("ea:rtss")
    assert [f[b"d"] for _, f in entries] == [b'{"symbol": "EURUSD"}']
    assert redis_client.xlen("ea:dlq:rtss") == 1

    refused = cli.invoke(app, ["dlq", "purge", "rtss"])
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert redis_client.xlen("ea:dlq:rtss") == 1
    purged = cli.invoke(app, ["dlq", "purge", "rtss", "--yes"])
    assert purged.exit_code == 0 and purged.output.strip() == "purged 1"
    assert orjson.loads(cli.invoke(app, ["dlq", "list", "--json"]).output)[0]["name"] == (
        "orders:demo-1"
    )


def test_unknown_id_and_unretriable_letters_fail_with_the_reason(
    cli: CliRunner, redis_client: redis.Redis
) -> None:
    dead_letter(redis_client, "rtss", b"")
    unknown = cli.invoke(app, ["dlq", "show", "rtss", "1-1"])
    assert unknown.exit_code == 2
    assert "id: no dead letter 1-1 in ea:dlq:rtss" in unknown.output
    failed = cli.invoke(app, ["dlq", "retry", "rtss"])
    assert failed.exit_code == 1
    assert "d: dead letter has no data to retry" in failed.output
    assert "retried 0 of 1" in failed.output


def test_unreachable_redis_is_a_clear_error() -> None:
    cli = CliRunner(env={"EAFLOW_REDIS_URL": "redis://127.0.0.1:1/0"})
    done = cli.invoke(app, ["dlq", "list"])
    assert done.exit_code == 1 and done.output.startswith("redis: ")
