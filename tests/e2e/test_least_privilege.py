"""Least privilege end to end: the pipeline runs with one Redis user per role (the ACL file of
`eaflow acl`), and each role's credentials are refused what that role must not do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson
import pytest
import redis

from eaflow.acl import Role
from model import OrderStatus, Result
from sinks.database import connect, database_path
from tests.acl_redis import PREFIX, AclRedis, make_certs
from tests.e2e.conftest import seed, write_market
from tests.redis_server import free_port

pytestmark = pytest.mark.slow

Spawn = Callable[[str, list[str]], subprocess.Popen[bytes]]
VIEWER = "least-privilege-viewer-token"


@pytest.fixture(params=["plain", "tls"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AclRedis]:
    """ACL users on plain TCP, and on mutual TLS (every worker given a `rediss://` URL)."""
    certs = make_certs(tmp_path / "certs") if request.param == "tls" else None
    started = AclRedis(workdir=tmp_path / "redis", certs=certs).start()
    yield started
    started.stop()


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Spawn]:
    """Start `eaflow ARGS...` with its output in `{name}.log`; SIGTERM them all at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "eaflow", *args], stdout=log, stderr=log,
                env={**os.environ, "EAFLOW_DATA_DIR": str(tmp_path / name)},
            )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until(
    check: Callable[[], bool], what: str, why: Callable[[], object] = str, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what} {why()}")


def has_group(admin: redis.Redis, key: str, group: str) -> bool:
    if not admin.exists(key):
        return False
    return any(g["name"] in (group, group.encode()) for g in admin.xinfo_groups(key))


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def denials(admin: redis.Redis) -> list[str]:
    """What Redis refused since it started (ACL LOG): user, command or key, and why."""
    return [f"{e['username']}: {e['reason']} {e['object']}" for e in admin.acl_log(count=100)]


def holds(admin: redis.Redis, key: str, count: int) -> bool:
    """Whether the latest state snapshot at `key` shows `count` open positions."""
    state = admin.get(key)
    return state is not None and len(orjson.loads(state)["positions"]) == count


def stored(data_dir: Path, count: int) -> bool:
    """Whether the DuckDB sink has written `count` results into `{data_dir}/eaflow.duckdb`."""
    path = database_path(data_dir)
    if not path.exists():
        return False
    try:
        with connect(path, read_only=True, wait=1.0) as db:
            row = db.execute("SELECT count(*) FROM results").fetchone()
    except duckdb.Error:
        return False
    return row is not None and row[0] == count


def results(admin: redis.Redis) -> list[Result]:
    entries: Any = admin.xrange(f"{PREFIX}rtrs")
    return [Result.model_validate_json(fields[b"d"]) for _, fields in entries]


def test_the_pipeline_trades_with_each_worker_logged_in_as_its_role(
    server: AclRedis, spawn: Spawn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EAFLOW_GATEWAY_VIEWER_TOKEN", VIEWER)  # both gateways' read paths
    admin = server.client(Role.ADMIN)
    instances = seed(server.url, 2)
    write_market(admin)
    port = free_port()
    spawn("router", ["worker", "rtss", "--redis", server.url_for(Role.ROUTER),
                     "--log-format", "json"])  # fmt: skip
    spawn("executor", ["worker", "orders", "--redis", server.url_for(Role.EXECUTOR),
                       "--log-format", "json"])  # fmt: skip
    spawn("ticks", ["worker", "ticks", "--redis", server.url_for(Role.TICKS),
                    "--log-format", "json"])  # fmt: skip
    spawn("sinks", ["worker", "rtrs", "--redis", server.url_for(Role.SINKS),
                    "--log-format", "json"])  # fmt: skip
    spawn("gateway", ["gateway", "--redis", server.url_for(Role.GATEWAY), "--port", str(port),
                      "--allow", "loopback"])  # fmt: skip
    refused = lambda: denials(admin)  # noqa: E731
    wait_until(lambda: has_group(admin, f"{PREFIX}rtss", "router"), "router's group", refused)
    for instance in instances:
        key = f"{PREFIX}orders:{instance}"
        wait_until(partial(has_group, admin, key, "executor"), f"group of {key}", refused)
    wait_until(lambda: answers(f"http://127.0.0.1:{port}/healthz"), "the gateway", refused)
    secret = orjson.loads(admin.hget(f"{PREFIX}sources", "tradingview") or b"{}")["secret"]

    body = "\n".join(
        f"tradingview,{side},EURUSD,vol_lots=0.01,instance={instance},secret={secret}"
        for instance in instances
        for side in ("buy", "sell")
    )
    answer = httpx.post(f"http://127.0.0.1:{port}/webhook/tradingview", content=body)
    assert answer.status_code == 200, (answer.text, denials(admin))
    assert len(answer.json()["signal_ids"]) == 4

    wait_until(lambda: len(results(admin)) >= 4, "four results in rtrs", lambda: denials(admin))
    found = results(admin)
    assert sorted(r.instance for r in found) == sorted([*instances, *instances])
    assert {r.status for r in found} == {OrderStatus.FILLED}
    for instance in instances:  # the executor's state sync publishes both positions
        key = f"{PREFIX}state:{instance}"
        wait_until(partial(holds, admin, key, 2), f"two positions in {key}", refused)

    # The sinks worker wrote them to DuckDB (it lets go of the file between batches).
    wait_until(partial(stored, tmp_path / "sinks", 4), "four results in DuckDB", refused)

    # The operator's CLI as the admin user, a dry-run replay in its sandbox included.
    for command in (["status"], ["replay", "rtss"], ["dlq", "list"]):
        done = subprocess.run(
            [sys.executable, "-m", "eaflow", *command, "--redis", server.url_for(Role.ADMIN)],
            capture_output=True, text=True, timeout=120, check=False,
            env={**os.environ, "EAFLOW_DATA_DIR": str(tmp_path / "admin")},
        )  # fmt: skip
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])

    # The chart and datafeed, served read-only by a second gateway logged in as the viewer.
    chart = free_port()
    spawn("chart", ["gateway", "--redis", server.url_for(Role.VIEWER), "--port", str(chart),
                    "--allow", "loopback"])  # fmt: skip
    wait_until(lambda: answers(f"http://127.0.0.1:{chart}/healthz"), "the chart", refused)
    base = f"http://127.0.0.1:{chart}"
    viewer = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {VIEWER}"})
    shown = viewer.get("/api/results", params={"instance": instances[0]}).json()
    assert [r["status"] for r in shown] == ["filled", "filled"]
    assert len(viewer.get(f"/api/state/{instances[0]}").json()["positions"]) == 2
    assert len(viewer.get("/api/markers", params={"symbol": "EURUSD"}).json()) == 4
    assert viewer.get("/api/instances").json()[0]["instance"] == instances[0]
    assert "EURUSD" in viewer.get("/api/symbols").json()
    bars = viewer.get("/udf/history", params={"symbol": "EURUSD", "resolution": "1"})
    viewer.close()
    assert bars.json()["s"] in ("ok", "no_data")

    # An eaoff and an eaon alert switch demo-1 as the router's user (attack 9 of issue 18:
    # the switch was a registry write the router may not make, the commit stopped at NOPERM
    # after the order record and the signal was acked with no switch and no result).
    webhook = f"http://127.0.0.1:{port}/webhook/tradingview"

    def alert(line: str) -> str:
        answer = httpx.post(webhook, content=f"tradingview,{line},secret={secret}")
        assert answer.status_code == 200, (answer.text, denials(admin))
        return str(answer.json()["signal_id"])

    def result_of(signal_id: str) -> Result:
        def found() -> list[Result]:
            return [r for r in results(admin) if r.signal_id == signal_id]

        wait_until(lambda: bool(found()), f"the result of {signal_id}", refused)
        [result] = found()
        return result

    off = result_of(alert(f"eaoff,instances={instances[0]}"))
    assert (off.instance, off.status) == (instances[0], OrderStatus.MODIFIED), off
    buy = result_of(alert(f"buy,EURUSD,vol_lots=0.01,instances={instances[0]}"))
    assert (buy.status, buy.field) == (OrderStatus.REJECTED, "trading_state"), buy
    assert result_of(alert(f"eaon,instances={instances[0]}")).status is OrderStatus.MODIFIED
    filled = result_of(alert(f"buy,EURUSD,vol_lots=0.01,instances={instances[0]}"))
    assert filled.status is OrderStatus.FILLED, filled

    assert denials(admin) == []
    for log in tmp_path.glob("*.log"):
        text = log.read_text()
        assert "NOPERM" not in text and "no permissions" not in text, log.name
        assert not any(p in text for p in server.passwords.values()), log.name
    admin.close()


REFUSED: list[tuple[Role, tuple[str, ...]]] = [
    (Role.GATEWAY, ("XRANGE", "ea:rtrs", "-", "+")),
    (Role.GATEWAY, ("XADD", "ea:orders:demo-1", "*", "d", "{}")),
    (Role.GATEWAY, ("XREADGROUP", "GROUP", "router", "evil", "STREAMS", "ea:rtss", ">")),
    (Role.GATEWAY, ("HSET", "ea:sources", "tradingview", "{}")),
    (Role.GATEWAY, ("HGETALL", "ea:sim:acct:5000001")),
    (Role.GATEWAY, ("EVAL", "return redis.call('XRANGE', KEYS[1], '-', '+')", "1", "ea:rtrs")),
    (Role.VIEWER, ("XADD", "ea:rtss", "*", "d", "{}")),
    (Role.VIEWER, ("HGET", "ea:sources", "tradingview")),
    (Role.ROUTER, ("HSET", "ea:sim:acct:5000001", "balance", "1000000")),
    (Role.ROUTER, ("HGETALL", "ea:sim:pos:5000001")),
    (Role.ROUTER, ("XADD", "ea:rtss", "*", "d", "{}")),
    (Role.ROUTER, ("SET", "ea:trading_state", "halted")),
    (Role.ROUTER, ("HSET", "ea:orec:demo-1", "o1", "filled")),  # it only creates records
    (Role.ROUTER, ("HSET", "ea:instances", "demo-1", "{}")),  # the operator's registry
    (Role.EXECUTOR, ("XADD", "ea:rtss", "*", "d", "{}")),
    (Role.EXECUTOR, ("XADD", "ea:orders:demo-2", "*", "d", "{}")),
    (Role.EXECUTOR, ("HSET", "ea:instances", "demo-1", "{}")),
    (Role.TICKS, ("XADD", "ea:orders:demo-1", "*", "d", "{}")),
    (Role.TICKS, ("HGET", "ea:sources", "tradingview")),
    (Role.SINKS, ("XADD", "ea:rtss", "*", "d", "{}")),
    (Role.SINKS, ("XADD", "ea:rtrs", "*", "d", "{}")),
    (Role.SINKS, ("HGETALL", "ea:sim:acct:5000001")),
    (Role.REPLICA, ("XRANGE", "ea:rtss", "-", "+")),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    """Instances, simulated accounts, a market and a signal, as in a running deployment."""
    started = AclRedis(workdir=tmp_path_factory.mktemp("seeded")).start()
    seed(started.url, 2)
    with started.client(Role.ADMIN) as admin:
        write_market(admin)
        admin.xadd(f"{PREFIX}rtss", {"d": b"{}"})
        admin.xadd(f"{PREFIX}rtrs", {"d": b"{}"})
        admin.hset(f"{PREFIX}sources", "tradingview", b"{}")
    yield started
    started.stop()


def snapshot(admin: redis.Redis) -> dict[bytes, object]:
    """Every key under the prefix with its content, to show a refusal changed nothing."""
    content: dict[bytes, object] = {}
    for key in admin.scan_iter(f"{PREFIX}*"):
        kind = admin.type(key)
        if kind == b"stream":
            content[key] = admin.xrange(key)
        elif kind == b"hash":
            content[key] = admin.hgetall(key)
        elif kind == b"zset":
            content[key] = admin.zrange(key, 0, -1, withscores=True)
        else:
            content[key] = admin.get(key)
    return content


@pytest.mark.parametrize(("role", "command"), REFUSED, ids=lambda v: str(v))
def test_each_role_is_refused_with_noperm(
    seeded: AclRedis, role: Role, command: tuple[str, ...]
) -> None:
    with seeded.client(Role.ADMIN) as admin:
        before = snapshot(admin)
        assert before
        with seeded.client(role) as client, pytest.raises(redis.exceptions.NoPermissionError):
            client.execute_command(*command)
        assert snapshot(admin) == before


def test_a_script_cannot_reach_past_its_users_rules(seeded: AclRedis) -> None:
    """The router may run the runtime's scripts, but each command inside is checked too."""
    script = "return redis.call('HSET', 'ea:sim:acct:5000001', 'balance', '1000000')"
    with seeded.client(Role.ADMIN) as admin:
        balance = admin.hget("ea:sim:acct:5000001", "balance")
        assert balance is not None
        with seeded.client(Role.ROUTER) as router, pytest.raises(redis.ResponseError) as error:
            router.eval(script, 0)
        assert "can't access" in str(error.value)
        assert admin.hget("ea:sim:acct:5000001", "balance") == balance
