"""`eaflow instance add|check` on a real Redis, against a simulated account and a dead terminal."""

from __future__ import annotations

import orjson
import pytest
import redis
from typer.testing import CliRunner

from brokers.sim.server import SimServer
from eaflow.cli.main import app
from model import InstanceSpec, TradingConfig
from model.tick import Tick, encode_tick
from tests.redis_server import free_port

LOGIN = 6_100_001


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_add_registers_an_instance_with_a_checked_broker_url(
    runner: CliRunner, redis_url: str, redis_client: redis.Redis
) -> None:
    url = "mt5://?server=MetaQuotes-Demo&password_env=DEMO_PW&path=C:/MT5/demo-1/terminal64.exe"
    done = runner.invoke(
        app,
        [
            "instance",
            "add",
            "demo-1",
            "--broker",
            url,
            "--login",
            str(LOGIN),
            "--group",
            "demo",
            "--redis",
            redis_url,
        ],
    )
    assert done.exit_code == 0, done.output
    stored = orjson.loads(redis_client.hget("ea:instances", "demo-1") or b"{}")
    assert (stored["broker"], stored["login"], stored["magic"], stored["groups"]) == (
        url,
        LOGIN,
        LOGIN % 1_000_000,
        ["demo"],
    )
    again = runner.invoke(
        app,
        [
            "instance",
            "add",
            "demo-1",
            "--broker",
            "sim://",
            "--login",
            str(LOGIN),
            "--redis",
            redis_url,
        ],
    )
    assert again.exit_code == 2 and "exists (--replace overwrites it)" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--broker", "mt5://?password=x", "--login", "5"], "password must not be in the URL"),
        (["--broker", "mt5://?srv=x", "--login", "5"], "unknown parameter srv"),
        (["--broker", "sim://", "--login", "0"], "greater than 0"),
    ],
)
def test_add_refuses_a_bad_instance_naming_the_rule(
    runner: CliRunner, redis_url: str, args: list[str], message: str
) -> None:
    done = runner.invoke(app, ["instance", "add", "x", *args, "--redis", redis_url])
    assert done.exit_code == 2 and message in " ".join(done.output.split())


def test_check_shows_the_account_of_a_reachable_terminal(
    runner: CliRunner, redis_url: str, redis_client: redis.Redis
) -> None:
    SimServer(redis_client).open_account(LOGIN, balance=5_000, currency="EUR", leverage=30)
    tick = Tick(time=1399334400, bid=1.38742, ask=1.38755, time_msc=1399334400158, flags=6)
    redis_client.xadd("ea:ticks:EURUSD", {"d": encode_tick(tick)})
    added = runner.invoke(
        app,
        [
            "instance",
            "add",
            "sim-1",
            "--broker",
            "sim://",
            "--login",
            str(LOGIN),
            "--redis",
            redis_url,
        ],
    )
    assert added.exit_code == 0, added.output
    spec = InstanceSpec.model_validate_json(redis_client.hget("ea:instances", "sim-1") or b"")
    config = TradingConfig(allowed_symbols=("EURUSD", "XAUUSD"), symbol_map={"XAUUSD": "GOLD"})
    redis_client.hset(
        "ea:instances", "sim-1", spec.model_copy(update={"config": config}).model_dump_json()
    )
    done = runner.invoke(app, ["instance", "check", "sim-1", "--redis", redis_url])
    assert done.exit_code == 0, done.output
    assert "5000.00 EUR" in done.output and "1:30" in done.output
    text = " ".join(done.output.replace("│", " ").split())  # rows may wrap
    assert "symbol EURUSD EURUSD" in text  # the broker's name of each configured symbol
    assert "symbol XAUUSD refused: symbol_map.XAUUSD is GOLD, which the" in text


def test_check_reports_mt5s_last_error_when_the_terminal_does_not_answer(
    runner: CliRunner, redis_url: str
) -> None:
    added = runner.invoke(
        app,
        [
            "instance",
            "add",
            "wine-1",
            "--broker",
            "mt5://?server=X",
            "--login",
            str(LOGIN),
            "--redis",
            redis_url,
        ],
    )
    assert added.exit_code == 0, added.output
    done = runner.invoke(
        app,
        ["instance", "check", "wine-1", "--redis", redis_url, "--mt5", f"127.0.0.1:{free_port()}"],
    )
    assert done.exit_code == 1
    assert "initialize failed (-10004, mt5linux server 127.0.0.1" in " ".join(done.output.split())
