"""The ACL users on a real redis-server: each role may do its work and nothing beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from redis.backoff import NoBackoff
from redis.retry import Retry

from eaflow.acl import (
    Role,
    acl_file,
    escape,
    role_rules,
    roles_named,
    username,
)
from model.keys import SANDBOX_ROOT
from tests.acl_redis import PREFIX, AclRedis, make_certs


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    started = AclRedis(workdir=tmp_path_factory.mktemp("acl-redis")).start()
    yield started
    started.stop()


@pytest.fixture
def admin(server: AclRedis) -> Iterator[redis.Redis]:
    with server.client(Role.ADMIN) as client:
        client.flushdb()
        yield client


def dryrun(admin: redis.Redis, role: Role, *command: str) -> bool:
    """Whether `role` may run `command` (Redis checks it without running it)."""
    reply = admin.acl_dryrun(username(role), *command)
    answer = reply.decode() if isinstance(reply, bytes) else str(reply)
    if answer == "OK":
        return True
    assert "no permissions" in answer, answer
    return False


def xreadgroup(group: str, key: str) -> tuple[str, ...]:
    return ("XREADGROUP", "GROUP", group, "c1", "COUNT", "10", "STREAMS", key, ">")


G, V, R, E, T, S, A, P = (Role.GATEWAY, Role.VIEWER, Role.ROUTER, Role.EXECUTOR, Role.TICKS,
                          Role.SINKS, Role.ADMIN, Role.REPLICA)  # fmt: skip
ENTRY = ("*", "d", "{}")
NO_RETRY = Retry(NoBackoff(), 0)

ALLOWED = [
    (G, ("XADD", "ea:rtss", *ENTRY)),
    (G, ("XADD", "ea:security", "MAXLEN", "~", "100000", *ENTRY)),
    (G, ("HGET", "ea:sources", "tradingview")),
    (G, ("HSETNX", "ea:sources", "tradingview", "{}")),
    (G, ("INCR", "ea:gateway:rate:tradingview:29000000")),
    (G, ("EXPIRE", "ea:gateway:rate:tradingview:29000000", "120")),
    (G, ("HGETALL", "ea:instances")),
    (G, ("WAIT", "1", "1000")),  # for the replicas before the webhook answers (decision 0019)
    (V, ("XREVRANGE", "ea:rtrs", "+", "-", "COUNT", "500")),
    (V, ("XREAD", "BLOCK", "1000", "STREAMS", "ea:ticks:EURUSD", "ea:rtrs", "0", "0")),
    (V, ("GET", "ea:state:demo-1")),
    (V, ("MGET", "ea:state:demo-1", "ea:state:demo-2")),  # the live feed, every instance at once
    (V, ("XRANGE", "ea:ticks:EURUSD", "-", "+")),
    (V, ("SCAN", "0", "MATCH", "ea:ticks:*", "TYPE", "stream")),
    (V, ("HLEN", "ea:sources")),
    (R, xreadgroup("router", "ea:rtss")),
    (R, ("XACK", "ea:rtss", "router", "1-0")),
    (R, ("XAUTOCLAIM", "ea:rtss", "router", "c1", "30000", "0-0", "COUNT", "10")),
    (R, ("XPENDING", "ea:rtss", "router", "-", "+", "10")),
    (R, ("XGROUP", "CREATE", "ea:rtss", "router", "$", "MKSTREAM")),
    (R, ("XADD", "ea:orders:demo-1", *ENTRY)),
    (R, ("XADD", "ea:rtrs", *ENTRY)),
    (R, ("HGETALL", "ea:instances")),
    (R, ("MGET", "ea:state:demo-1", "ea:state:demo-2")),
    (R, ("XREVRANGE", "ea:ticks:EURUSD", "+", "-", "COUNT", "1")),
    (R, ("HINCRBY", "ea:fails:rtss:router", "1-0", "1")),
    (R, ("XADD", "ea:dlq:rtss", *ENTRY)),
    (R, ("HSETNX", "ea:orec:demo-1", "o1", "rejected")),
    (R, ("SET", "ea:switch:demo-1", "{}")),  # an eaoff/eaon alert's own key
    (R, ("MGET", "ea:state:demo-1", "ea:switch:demo-1")),  # the router's refresh
    (R, ("HGETALL", "ea:risk:demo-1")),  # loss limits (processors/router/risk.py)
    (R, ("HSETNX", "ea:risk:demo-1", "start:2026-12-07", "9987.00")),
    (R, ("HINCRBY", "ea:risk:demo-1", "trades:2026-12-07", "1")),
    (R, ("HDEL", "ea:risk:demo-1", "start:2026-12-06")),
    (R, ("XADD", "ea:ris", *ENTRY)),
    (R, ("HSET", "ea:ptrail:demo-1", "trend#abcdefghijkl", "{}")),  # an alert's trailing
    (T, ("HGETALL", "ea:ptrail:demo-1")),
    (T, ("HDEL", "ea:ptrail:demo-1", "trend#abcdefghijkl")),
    (V, ("GET", "ea:switch:demo-1")),
    (G, ("GET", "ea:switch:demo-1")),
    (E, xreadgroup("executor", "ea:orders:demo-1")),
    (E, ("XADD", "ea:rtrs", *ENTRY)),
    (E, ("WAIT", "1", "1000")),  # for the replicas before order_send
    (E, ("XADD", "ea:rts", "MAXLEN", "~", "100000", *ENTRY)),
    (E, ("XADD", "ea:ris", *ENTRY)),
    (E, ("XADD", "ea:trades", "MAXLEN", "~", "100000", *ENTRY)),
    (E, ("HMGET", "ea:trades:open", "demo-1")),
    (E, ("HSET", "ea:trades:open", "demo-1", "[]")),
    (V, ("XRANGE", "ea:trades", "-", "+")),
    (E, ("SET", "ea:state:demo-1", "{}")),
    (E, ("HSET", "ea:orec:demo-1", "o1", "sent")),
    (E, ("HSET", "ea:symbols:demo-1", "EURUSD", "{}")),
    (E, ("HINCRBY", "ea:sim:acct:1001", "version", "1")),
    (E, ("ZADD", "ea:sim:deals:1001", "1", "x")),
    (E, ("WATCH", "ea:sim:acct:1001")),
    (E, ("XADD", "ea:dlq:orders:demo-1", *ENTRY)),
    (T, ("XADD", "ea:ticks:EURUSD", "MAXLEN", "~", "1000", *ENTRY)),
    (T, xreadgroup("ticks", "ea:ticks:EURUSD")),
    (T, ("HSET", "ea:sim:pos:1001", "1", "[]")),
    (T, ("XADD", "ea:rtrs", *ENTRY)),
    (S, xreadgroup("duckdb", "ea:rtrs")),
    (S, xreadgroup("clickhouse", "ea:rtrs")),
    (S, xreadgroup("duckdb-trades", "ea:trades")),
    (S, xreadgroup("clickhouse-states", "ea:rts")),  # account states into the databases
    (S, ("XREVRANGE", "ea:rts", "+", "-", "COUNT", "1")),  # the states sinks' lag
    (S, xreadgroup("notify", "ea:ris")),  # `eaflow worker notify` runs as the sinks user
    (S, xreadgroup("config-history", "ea:ris")),  # loss limits into config_history
    (S, ("XTRIM", "ea:rtrs", "MINID", "0-1")),
    (S, ("HINCRBY", "ea:fails:rtrs:duckdb", "1-0", "1")),
    # a failed batch's commit: the runtime's script, its routing key the failure record's
    (S, ("EVALSHA", "0" * 40, "1", "ea:fails:rtrs:duckdb")),
    (R, ("EVALSHA", "0" * 40, "1", "ea:fails:rtss:router")),
    (A, ("FLUSHDB",)),
    (A, ("XRANGE", "ea:rtrs", "-", "+")),
    (A, ("HSET", "ea:instances", "demo-1", "{}")),
    (A, ("HSET", "eaflow-replay:5eed:instances", "demo-1", "{}")),
    (P, ("PING",)),
    (P, ("REPLCONF", "listening-port", "6380")),
]

NOBODY_BUT_ADMIN = [
    ("KEYS", "*"),
    ("FLUSHALL",),
    ("CONFIG", "SET", "appendonly", "no"),
    ("ACL", "LIST"),
    ("CLIENT", "LIST"),
    ("DEBUG", "SLEEP", "0"),
    ("GET", "other:key"),
]

REFUSED = [
    (G, ("XRANGE", "ea:rtrs", "-", "+")),
    (G, ("XREAD", "STREAMS", "ea:rtrs", "0")),
    (G, ("XADD", "ea:orders:demo-1", *ENTRY)),
    (G, ("XADD", "ea:rtrs", *ENTRY)),
    (G, xreadgroup("router", "ea:rtss")),
    (G, ("XRANGE", "ea:rtss", "-", "+")),
    (G, ("HSET", "ea:sources", "tradingview", "x")),
    (G, ("HDEL", "ea:sources", "tradingview")),
    (G, ("GET", "ea:state:demo-1")),
    (V, ("XADD", "ea:rtss", *ENTRY)),
    (V, ("HGET", "ea:sources", "tradingview")),
    (V, ("HGETALL", "ea:sim:acct:1001")),
    (V, ("SET", "ea:state:demo-1", "{}")),
    (V, xreadgroup("router", "ea:rtss")),
    (G, ("HSET", "ea:sim:acct:1001", "balance", "1e9")),
    (R, ("XADD", "ea:rtss", *ENTRY)),
    (R, ("HSET", "ea:sim:acct:1001", "balance", "1e9")),
    (R, ("HGETALL", "ea:sim:pos:1001")),
    (R, xreadgroup("executor", "ea:orders:demo-1")),
    (R, ("HSET", "ea:instances", "demo-1", "{}")),  # the operator's trading_state
    (R, ("SET", "ea:switchboard", "{}")),
    (R, ("DEL", "ea:switch:demo-1")),
    (R, ("DEL", "ea:risk:demo-1")),  # lifting a breach is an operator's
    (G, ("HGETALL", "ea:risk:demo-1")),
    (R, ("HGETALL", "ea:ptrail:demo-1")),
    (G, ("HSET", "ea:ptrail:demo-1", "x", "{}")),
    (E, ("HSET", "ea:ptrail:demo-1", "x", "{}")),
    (G, ("SET", "ea:switch:demo-1", "{}")),
    (V, ("SET", "ea:switch:demo-1", "{}")),
    (E, ("SET", "ea:switch:demo-1", "{}")),
    (T, ("SET", "ea:switch:demo-1", "{}")),
    (R, ("SET", "ea:trading_state", "active")),
    (R, ("XRANGE", "ea:rtrs", "-", "+")),
    (R, ("HSET", "ea:orec:demo-1", "o1", "rejected")),
    (R, ("HDEL", "ea:orec:demo-1", "o1")),
    (E, ("XADD", "ea:rtss", *ENTRY)),
    (E, ("XADD", "ea:orders:demo-1", *ENTRY)),
    (E, ("HSET", "ea:instances", "demo-1", "{}")),
    (E, ("SET", "ea:trading_state", "halted")),
    (E, ("XADD", "ea:ticks:EURUSD", *ENTRY)),
    (T, ("XADD", "ea:orders:demo-1", *ENTRY)),
    (T, ("XADD", "ea:rtss", *ENTRY)),
    (T, ("HSET", "ea:orec:demo-1", "o1", "sent")),
    (S, ("XTRIM", "ea:ris", "MINID", "0-1")),
    (S, ("XADD", "ea:rtss", *ENTRY)),
    (S, ("XADD", "ea:rtrs", *ENTRY)),
    (S, ("XADD", "ea:rts", *ENTRY)),  # it reads account states, never writes or trims them
    (S, ("XTRIM", "ea:rts", "MAXLEN", "0")),
    (S, ("XADD", "ea:orders:demo-1", *ENTRY)),
    (S, ("HGETALL", "ea:sim:acct:1001")),
    (S, ("GET", "ea:state:demo-1")),
    (A, ("GET", "other:key")),
    (P, ("GET", "ea:instances")),
    (P, ("XADD", "ea:rtss", *ENTRY)),
] + [(role, command) for role in (G, V, R, E, T, S, P) for command in NOBODY_BUT_ADMIN]
REFUSED += [(role, ("SCAN", "0")) for role in (G, R, E, T, S, P)]  # key names: viewer only


@pytest.mark.parametrize(("role", "command"), ALLOWED, ids=lambda v: str(v))
def test_each_role_may_run_what_its_worker_runs(
    admin: redis.Redis, role: Role, command: tuple[str, ...]
) -> None:
    assert dryrun(admin, role, *command)


@pytest.mark.parametrize(("role", "command"), REFUSED, ids=lambda v: str(v))
def test_each_role_is_refused_what_it_must_not_do(
    admin: redis.Redis, role: Role, command: tuple[str, ...]
) -> None:
    assert not dryrun(admin, role, *command)


def test_the_default_user_is_off_and_unauthenticated_clients_get_nothing(
    server: AclRedis,
) -> None:
    anonymous = redis.Redis(host="127.0.0.1", port=server.port, retry=NO_RETRY)
    with anonymous, pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    with server.client(Role.ADMIN) as admin:
        users = {u if isinstance(u, str) else u.decode() for u in admin.acl_users()}
    assert users == {"default", *(username(role) for role in Role)}


def test_a_wrong_password_is_refused(server: AclRedis) -> None:
    client = redis.Redis(
        host="127.0.0.1",
        port=server.port,
        username=username(Role.ROUTER),
        password=server.passwords[Role.GATEWAY],
        retry=NO_RETRY,
    )
    with client, pytest.raises(redis.AuthenticationError):
        client.ping()


def test_refusals_reach_the_client_as_noperm_errors(server: AclRedis, admin: redis.Redis) -> None:
    with server.client(Role.GATEWAY) as gateway:
        gateway.xadd(f"{PREFIX}rtss", {"d": b"{}"})
        with pytest.raises(redis.exceptions.NoPermissionError, match="no permissions"):
            gateway.xrange(f"{PREFIX}rtrs")
    assert admin.xlen(f"{PREFIX}rtss") == 1


def test_the_rules_follow_the_prefix(tmp_path: Path) -> None:
    server = AclRedis(workdir=tmp_path)
    rules = " ".join(role_rules(Role.ROUTER, "paper:"))
    assert "~paper:rtss" in rules and "ea:" not in rules
    assert acl_file("paper:", server.passwords).count("~paper:") > 10


def test_the_admin_may_use_the_replay_sandboxes() -> None:
    assert f"~{SANDBOX_ROOT}*" in role_rules(Role.ADMIN, "ea:")


def test_glob_characters_of_a_prefix_are_escaped() -> None:
    assert escape("a*b?[c]\\") == "a\\*b\\?\\[c\\]\\\\"
    assert escape("{ea}:") == "{ea}:"


def test_the_file_holds_password_hashes_not_passwords(tmp_path: Path) -> None:
    server = AclRedis(workdir=tmp_path)
    text = acl_file(PREFIX, server.passwords)
    assert not any(password in text for password in server.passwords.values())
    assert text.count(" on #") == len(Role)


def test_unknown_roles_are_refused_by_name() -> None:
    assert roles_named(["router", "sinks"]) == [Role.ROUTER, Role.SINKS]
    with pytest.raises(ValueError, match="role: unknown role 'trader'"):
        roles_named(["router", "trader"])


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclRedis]:
    certs = make_certs(tmp_path_factory.mktemp("certs"))
    started = AclRedis(workdir=tmp_path_factory.mktemp("tls-redis"), certs=certs).start()
    yield started
    started.stop()


def test_role_users_log_in_over_tls_with_the_files_named_in_the_url(tls_server: AclRedis) -> None:
    url = tls_server.url_for(Role.GATEWAY)
    assert url.startswith("rediss://") and "ssl_ca_certs=" in url
    with tls_server.client(Role.GATEWAY) as gateway:
        assert gateway.connection_pool.connection_class is redis.SSLConnection
        gateway.xadd(f"{PREFIX}rtss", {"d": b"{}"})
        with pytest.raises(redis.exceptions.NoPermissionError):
            gateway.xrange(f"{PREFIX}rtrs")


async def test_the_asyncio_client_takes_the_same_tls_url(tls_server: AclRedis) -> None:
    client = aioredis.Redis.from_url(tls_server.url_for(Role.SINKS))
    try:
        assert await client.xlen(f"{PREFIX}rtrs") == 0
        with pytest.raises(redis.exceptions.NoPermissionError):
            await client.xadd(f"{PREFIX}rtss", {"d": b"{}"})
    finally:
        await client.aclose()


def test_a_plain_connection_to_the_tls_port_fails(tls_server: AclRedis) -> None:
    plain = tls_server.url_for(Role.ADMIN).replace("rediss://", "redis://").split("?")[0]
    client = redis.Redis.from_url(plain, socket_timeout=2, retry=NO_RETRY)
    with client, pytest.raises(redis.ConnectionError):
        client.ping()
