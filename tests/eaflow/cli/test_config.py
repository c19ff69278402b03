"""`eaflow config` on a real Redis and a DuckDB file, as an operator types it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
import redis
import redis.asyncio as aioredis
from typer.testing import CliRunner

from eaflow.cli.main import app
from model import InstanceSpec
from processors.registry import InstanceRegistry


@pytest.fixture
def config(redis_url: str, tmp_path: Path) -> CliRunner:
    async def seed() -> None:
        client = aioredis.Redis.from_url(redis_url)
        await InstanceRegistry(client, "ea:").put(
            InstanceSpec(instance_id="demo-1", login=5_000_001),
            InstanceSpec(instance_id="demo-2", login=5_000_002),
        )
        await client.aclose()

    asyncio.run(seed())
    return CliRunner(
        env={"EAFLOW_REDIS_URL": redis_url, "EAFLOW_CONFIG_DB": str(tmp_path / "eaflow.duckdb")}
    )


def test_set_get_list_and_history(config: CliRunner, redis_client: redis.Redis) -> None:
    done = config.invoke(
        app, ["config", "set", "max_open_orders=5", "lot_size=0.10", "--note", "calmer"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip().startswith("version 1: global published to Redis; history in ")
    done = config.invoke(
        app,
        [
            "config",
            "set",
            "-i",
            "demo-1",
            "allowed_symbols=EURUSD,XAUUSD",
            "symbols.XAUUSD.lot_size=0.2",
        ],
    )
    assert done.exit_code == 0, done.output
    shown = orjson.loads(config.invoke(app, ["config", "get", "-i", "demo-1", "--json"]).output)
    assert shown["version"] == 2
    assert shown["config"]["max_open_orders"] == 5
    assert shown["config"]["allowed_symbols"] == ["EURUSD", "XAUUSD"]
    assert shown["document"] == {
        "allowed_symbols": ["EURUSD", "XAUUSD"],
        "symbols": {"XAUUSD": {"lot_size": "0.2"}},
    }
    assert config.invoke(app, ["config", "get", "lot_size"]).output.strip() == '"0.10"'
    listed = orjson.loads(config.invoke(app, ["config", "list", "--json"]).output)
    assert [i["instance"] for i in listed["instances"]] == ["demo-1", "demo-2"]
    history = orjson.loads(config.invoke(app, ["config", "history", "--all", "--json"]).output)
    assert [(h["version"], h["scope"], h["note"]) for h in history] == [
        (2, "demo-1", ""),
        (1, "*", "calmer"),
    ]
    assert history[1]["actor"].startswith("cli:")
    spec = InstanceSpec.model_validate_json(redis_client.hget("ea:instances", "demo-1") or b"")
    assert spec.config_version == 2 and spec.config.max_open_orders == 5


def test_an_invalid_value_is_refused_with_field_and_rule(
    config: CliRunner, redis_client: redis.Redis
) -> None:
    config.invoke(app, ["config", "set", "max_open_orders=5"])
    for args, message in [
        (["max_open_orders=-1"], "refused: max_open_orders: Input should be greater than or"),
        (["max_open_orders"], "refused: max_open_orders: must be FIELD=VALUE"),
        (["lot_sise=1"], "refused: lot_sise: is not a configuration field"),
        (["allowed_sessions=9-17"], "refused: allowed_sessions: '9-17' must be HH:MM-HH:MM"),
        (["-i", "ghost", "lot_size=1"], "refused: instance: unknown instance ghost"),
    ]:
        refused = config.invoke(app, ["config", "set", *args])
        assert refused.exit_code == 2, refused.output
        assert message in refused.output
    assert redis_client.get("ea:config:version") == b"1"
    shown = orjson.loads(config.invoke(app, ["config", "get", "--json"]).output)
    assert shown["document"] == {"max_open_orders": 5}


def test_backup_then_restore_into_an_empty_redis(
    config: CliRunner, redis_client: redis.Redis
) -> None:
    config.invoke(app, ["config", "set", "-i", "demo-2", "max_open_orders=1"])
    before = redis_client.hgetall("ea:instances")
    done = config.invoke(app, ["config", "backup"])
    assert done.output.strip() == "backup 1 written"
    refused = config.invoke(app, ["config", "restore"])
    assert refused.exit_code == 2 and "already holds a configuration" in refused.output
    redis_client.flushall()
    done = config.invoke(app, ["config", "restore"])
    assert done.exit_code == 0 and done.output.strip() == "restored backup 1: 4 entries"
    assert redis_client.hgetall("ea:instances") == before


DESIGN_CONFIGURATION = {
    "lot_size": 0.1,
    "max_drawdown": 5.0,
    "max_open_orders": 10,
    "trailing_stop": True,
    "slippage": 1.5,
}
"""The original design's configuration model, exactly as it writes it."""


def test_the_design_configuration_is_set_as_written(config: CliRunner) -> None:
    pairs = [f"{k}={orjson.dumps(v).decode()}" for k, v in DESIGN_CONFIGURATION.items()]
    done = config.invoke(app, ["config", "set", "-i", "demo-1", *pairs])
    assert done.exit_code == 0, done.output
    shown = orjson.loads(config.invoke(app, ["config", "get", "-i", "demo-1", "--json"]).output)
    effective = shown["config"]
    assert (effective["lot_size"], effective["max_drawdown"]) == ("0.1", "5.0")
    assert effective["max_open_orders"] == 10
    assert effective["trailing_stop"]["enabled"] is True
    assert (effective["slippage"], effective["slippage_points"]) == ("1.5", 10)
    off = config.invoke(app, ["config", "set", "-i", "demo-1", "trailing_stop=false"])
    assert off.exit_code == 0, off.output
    shown = orjson.loads(config.invoke(app, ["config", "get", "-i", "demo-1", "--json"]).output)
    assert shown["config"]["trailing_stop"]["enabled"] is False
