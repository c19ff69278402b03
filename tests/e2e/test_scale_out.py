"""Scale-out on loopback: executors split instances, routers stand by, a Redis Cluster.

Every worker is a real `eaflow worker` process, as an operator would start them on several
machines (docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import orjson
import pytest
import redis
from redis.cluster import RedisCluster

from eaflow.demo import seed_demo
from model import OrderStatus, Result
from model.tick import Tick, encode_tick
from processors.registry import InstanceRegistry
from streams.clients import async_client, sync_client
from tests.e2e.conftest import PREFIX, QUOTES, seed, send_raw, wait_for_results, write_market
from tests.e2e.conftest import workers as workers  # the e2e worker processes fixture
from tests.e2e.workers import Worker, eaflow
from tests.redis_server import free_port
from tests.tools import need, need_redis

BUY = {"symbol": "EURUSD", "order_type": "buy", "volume": "0.01"}


def consumers(client: redis.Redis, stream: str, group: str) -> dict[str, int]:
    """Consumer name → entries it still owns, of `group` on `stream`."""
    return {c["name"].decode(): int(c["pending"]) for c in client.xinfo_consumers(stream, group)}


def pid_of(consumer: str) -> int:
    """Consumer names are `{hostname}-{pid}-{random}`."""
    return int(consumer.rsplit("-", 2)[1])


def has_group(client: redis.Redis, stream: str, group: str) -> bool:
    return bool(client.exists(stream)) and any(
        g["name"] == group.encode() for g in client.xinfo_groups(stream)
    )


def wait_until_reading(client: redis.Redis, instances: list[str], prefix: str = PREFIX) -> None:
    """Routers and executors read their streams, and the router saw the symbols the
    executors published (its refresh runs every 500 ms)."""
    streams = [(f"{prefix}orders:{i}", "executor") for i in instances]
    until(
        lambda: all(has_group(client, s, g) for s, g in [(f"{prefix}rtss", "router"), *streams]),
        "router and executor groups",
    )
    time.sleep(1.0)


def until(condition: Callable[[], bool], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {within:.0f} s")
        time.sleep(0.1)


def test_executors_split_the_instances_between_processes(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    instances = seed(redis_url, 4)
    write_market(redis_client)
    workers("rtss", env={"EAFLOW_DATA_DIR": str(tmp_path / "router")})
    hosts = {
        pair: workers(
            "orders",
            *(),
            extra=("-i", pair[0], "-i", pair[1]),
            env={"EAFLOW_DATA_DIR": str(tmp_path / pair[0])},
        )
        for pair in (("demo-1", "demo-2"), ("demo-3", "demo-4"))
    }
    wait_until_reading(redis_client, instances)
    for n in range(8):
        send_raw(redis_client, {**BUY, "order_id": f"split-{n}", "instances": [instances[n % 4]]})
    found = wait_for_results(redis_client, 8)
    assert sorted(r.order_id for r in found) == sorted(f"split-{n}" for n in range(8))
    assert {r.status for r in found} == {OrderStatus.FILLED}, [r.error for r in found]
    for pair, worker in hosts.items():
        assert worker.process is not None
        for instance in pair:
            readers = consumers(redis_client, f"{PREFIX}orders:{instance}", "executor")
            assert {pid_of(name) for name in readers} == {worker.process.pid}
    assert {r.instance for r in found} == set(instances)


def test_one_orders_worker_spreads_its_instances_over_processes(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    """`--processes 2`: the worker keeps every second instance and starts a process for the
    others, restarts it when it dies, and stops it with itself."""
    instances = seed(redis_url, 4)
    write_market(redis_client)
    workers("rtss", env={"EAFLOW_DATA_DIR": str(tmp_path / "router")})
    host = workers(
        "orders", extra=("--processes", "2"), env={"EAFLOW_DATA_DIR": str(tmp_path / "orders")}
    )
    wait_until_reading(redis_client, instances)
    assert host.process is not None

    def readers() -> dict[str, set[int]]:
        return {
            i: {pid_of(name) for name in consumers(redis_client, f"{PREFIX}orders:{i}", "executor")}
            for i in instances
        }

    until(lambda: all(len(pids) == 1 for pids in readers().values()), "one reader each")
    pids = {i: next(iter(found)) for i, found in readers().items()}
    (here,) = {pids["demo-1"], pids["demo-3"]}  # every second instance in the worker itself
    (other,) = {pids["demo-2"], pids["demo-4"]}  # the others in the process it started
    assert other != here
    assert (
        b"--instance\x00demo-2\x00--instance\x00demo-4"
        in Path(f"/proc/{other}/cmdline").read_bytes()
    )
    for n in range(8):
        send_raw(redis_client, {**BUY, "order_id": f"share-{n}", "instances": [instances[n % 4]]})
    found = wait_for_results(redis_client, 8)
    assert {r.status for r in found} == {OrderStatus.FILLED}, [r.error for r in found]
    assert {r.instance for r in found} == set(instances)

    os.kill(other, signal.SIGKILL)  # the share's process dies: it is started again
    until(
        lambda: {p for i in ("demo-2", "demo-4") for p in readers()[i]} - {other} != set(),
        "the share's new process reading",
    )
    send_raw(redis_client, {**BUY, "order_id": "share-again", "instances": ["demo-4"]})
    assert wait_for_results(redis_client, 9)[-1].status is OrderStatus.FILLED
    host.stop()
    until(lambda: not alive(other) and all(not alive(p) for p in readers()["demo-2"]), "stopped")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def received(port: int) -> float:
    """`eaflow_signals_received_total` of one router process."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        for line in answer.read().decode().splitlines():
            if line.startswith("eaflow_signals_received_total "):
                return float(line.split()[1])
    return 0.0


def test_one_router_routes_and_a_standby_takes_over_when_it_dies(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., Worker], tmp_path: Path
) -> None:
    instances = seed(redis_url, 2)
    write_market(redis_client)
    ports = [free_port(), free_port()]
    routers = [
        workers(
            "rtss",
            extra=("--metrics-port", str(port)),
            env={"EAFLOW_DATA_DIR": str(tmp_path / f"router-{n}")},
        )
        for n, port in enumerate(ports)
    ]
    workers("orders", env={"EAFLOW_DATA_DIR": str(tmp_path / "orders")})
    until(lambda: redis_client.exists(f"{PREFIX}lease:rtss:router") == 1, "a router's lease")
    wait_until_reading(redis_client, instances)
    holder = bytes(redis_client.get(f"{PREFIX}lease:rtss:router")).decode()  # type: ignore[arg-type]
    active = next(n for n, w in enumerate(routers) if w.process and w.process.pid == pid_of(holder))

    def send(first: int, count: int) -> None:
        for n in range(first, first + count):
            body = {**BUY, "order_id": f"shared-{n}", "instances": [instances[n % 2]]}
            send_raw(redis_client, body)

    send(0, 20)
    wait_for_results(redis_client, 20)
    assert received(ports[active]) == 20 and received(ports[1 - active]) == 0
    routers[active].kill()  # the standby sees a dead holder on this host: takes over at once
    send(20, 20)
    found = wait_for_results(redis_client, 40)
    time.sleep(0.5)  # a second routing would show up as an extra order or result
    for k, instance in enumerate(instances):  # once each, each instance's in order
        mine = [r.order_id for r in found if r.instance == instance]
        assert mine == [f"shared-{n}" for n in range(k, 40, 2)]
    orders = sum(redis_client.xlen(f"{PREFIX}orders:{i}") for i in instances)
    assert orders == 40
    assert received(ports[1 - active]) == 20


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """Three master nodes on loopback (`redis-server --cluster-enabled yes`), created with
    `redis-cli --cluster create`; yields the `redis+cluster://` URL of the first."""
    server, cli = need_redis(), need("redis-cli")
    ports = cluster_ports(3)
    nodes = []
    for port in ports:
        folder = tmp_path / f"node-{port}"
        folder.mkdir()
        nodes.append(
            subprocess.Popen(
                [
                    server,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                cwd=folder,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        for port in ports:
            until(partial(_answers, port), f"node on port {port}", within=10)
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports), "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        for port in ports:
            until(partial(_cluster_ok, port), f"cluster_state:ok on {port}", within=30)
        yield f"redis+cluster://127.0.0.1:{ports[0]}/0"
    finally:
        for node in nodes:
            node.terminate()
        for node in nodes:
            node.wait(timeout=10)


def cluster_ports(count: int) -> list[int]:
    """Free ports whose cluster bus port (port + 10000) is valid and free too."""
    found: list[int] = []
    while len(found) < count:
        port = random.randrange(20_000, 50_000)
        if port not in found and all(_free(p) for p in (port, port + 10_000)):
            found.append(port)
    return found


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port).ping())
    except redis.ConnectionError:
        return False


def _cluster_ok(port: int) -> bool:
    info = redis.Redis(port=port).cluster("INFO")
    return b"cluster_state:ok" in info if isinstance(info, bytes) else "ok" in str(info)


def test_a_redis_cluster_carries_a_pipeline_under_a_hash_tagged_prefix(
    cluster: str, tmp_path: Path
) -> None:
    prefix = "{ea}:"
    client = sync_client(cluster)
    assert isinstance(client, RedisCluster)
    slots = {client.keyslot(f"{prefix}{k}") for k in ("rtss", "orders:demo-1", "rtrs", "sim:x")}
    assert len(slots) == 1  # only the tag is hashed: one slot, one node for the pipeline
    assert len({client.keyslot(f"ea:{k}") for k in ("rtss", "orders:demo-1", "rtrs")}) > 1

    async def prepare() -> list[str]:
        registry = InstanceRegistry(async_client(cluster), prefix)
        try:
            return await seed_demo(registry, cluster, prefix, 2)
        finally:
            await registry.redis.aclose()

    instances = asyncio.run(prepare())
    for symbol, (bid, ask) in QUOTES.items():
        _quote(client, prefix, symbol, bid, ask)
    started = [
        Worker(
            topics,
            cluster,
            tmp_path / f"{topics[0]}.log",
            ("--prefix", prefix),
            {"EAFLOW_DATA_DIR": str(tmp_path / topics[0])},
        ).start()
        for topics in (("rtss",), ("orders",))
    ]
    try:
        wait_until_reading(client, instances, prefix)
        for n in range(6):
            body = {**BUY, "order_id": f"cluster-{n}", "instances": [instances[n % 2]]}
            client.xadd(f"{prefix}rtss", {"d": orjson.dumps(body)})
        until(lambda: client.xlen(f"{prefix}rtrs") >= 6, "6 results on the cluster")
        found = [Result.model_validate_json(f[b"d"]) for _, f in client.xrange(f"{prefix}rtrs")]
        assert sorted(r.order_id for r in found) == sorted(f"cluster-{n}" for n in range(6))
        assert {r.status for r in found} == {OrderStatus.FILLED}, [r.error for r in found]
    finally:
        for worker in started:
            worker.stop()
        client.close()


def test_a_cluster_url_refuses_a_prefix_without_a_hash_tag(tmp_path: Path) -> None:
    run = eaflow(
        "worker",
        "rtss",
        "--redis",
        "redis+cluster://127.0.0.1:1/0",
        "--prefix",
        "ea:",
        env={"EAFLOW_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert run.returncode != 0
    assert "prefix: on a Redis Cluster it must start with a hash tag" in run.stderr + run.stdout


def _quote(client: redis.Redis, prefix: str, symbol: str, bid: float, ask: float) -> None:
    now_ms = int(time.time() * 1000)
    tick = Tick(now_ms // 1000, bid, ask, 0.0, 0, now_ms, 6, 0.0)
    client.xadd(f"{prefix}ticks:{symbol}", {"d": encode_tick(tick)})
