"""Redis clients from URLs: one server, a Redis Cluster, or the primary that Sentinels name.

`redis://`, `rediss://` and `unix://` give a client of one server; `redis+cluster://host:port`
(`rediss+cluster://` with TLS) gives a cluster client that discovers the other nodes from
that one. A pipeline's keys must then share one hash slot, because its commits are one Lua
script over several streams: give it a hash-tagged prefix such as `{ea}:` (docs/scaling.md).

`redis+sentinel://[user:password@]host:port[,host:port...]/service[/db]` (`rediss+sentinel://`
with TLS) gives a client of the primary the Sentinels at those addresses name for `service`:
every new connection asks them, so after a promotion the client's next connection reaches the
new primary (a connection to the old one fails, or is refused with READONLY, and is dropped).
The user and password are the primary's (the role's ACL user, as in a `redis://` URL); the
Sentinels' own are the query parameters `sentinel_username` and `sentinel_password`. Other
query parameters are those of a `redis://` URL (`ssl_ca_certs`, `socket_timeout`, ...) and
apply to the primary and, for TLS, to the Sentinels too. A Sentinel's port defaults to 26379.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import parse_qsl, unquote, urlencode

import redis
import redis.sentinel
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.asyncio.sentinel import SentinelConnectionPool as AsyncSentinelPool
from redis.cluster import RedisCluster
from redis.connection import parse_url

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SENTINEL_SCHEMES = {"redis+sentinel": "redis", "rediss+sentinel": "rediss"}
SENTINEL_PORT = 26379
SENTINEL_AUTH = ("sentinel_username", "sentinel_password")
"""Query parameters of a Sentinel URL that log in to the Sentinels, not to the primary."""


def scheme_of(url: str) -> str:
    return url.partition("://")[0].lower()


def is_cluster(url: str) -> bool:
    """Whether `url` names a Redis Cluster (`redis+cluster://`, `rediss+cluster://`)."""
    return scheme_of(url) in CLUSTER_SCHEMES


def is_sentinel(url: str) -> bool:
    """Whether `url` names the primary of a Sentinel-monitored service (`redis+sentinel://`)."""
    return scheme_of(url) in SENTINEL_SCHEMES


def server_url(url: str) -> str:
    """The URL redis-py parses: `redis+cluster://h:p/0` → `redis://h:p/0`."""
    scheme, sep, rest = url.partition("://")
    return f"{CLUSTER_SCHEMES.get(scheme.lower(), scheme)}{sep}{rest}"


@dataclass(frozen=True)
class SentinelUrl:
    """A parsed `redis+sentinel://` URL: where the Sentinels are, which service they watch,
    how to log in to its primary (`connection`) and to them (`sentinel`)."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    connection: dict[str, Any] = field(default_factory=dict)
    sentinel: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, url: str) -> SentinelUrl:
        """ValueError names what is wrong: no Sentinel, no service, a bad port or db."""
        scheme, _, rest = url.partition("://")
        if scheme.lower() not in SENTINEL_SCHEMES:
            raise ValueError(f"redis_url: not a Sentinel URL: {scheme}://")
        rest, _, query = rest.partition("?")
        netloc, _, path = rest.partition("/")
        userinfo, at, hosts = netloc.rpartition("@")
        if not at:
            userinfo, hosts = "", netloc
        sentinels = tuple(_address(part) for part in hosts.split(",") if part)
        if not sentinels:
            raise ValueError("redis_url: a Sentinel URL names at least one Sentinel host:port")
        service, _, db = path.strip("/").partition("/")
        if not service:
            raise ValueError("redis_url: a Sentinel URL names its service: .../SERVICE[/DB]")
        if db and not db.isdigit():
            raise ValueError(f"redis_url: the database after the service must be a number: {db!r}")
        params = dict(parse_qsl(query, keep_blank_values=True))
        auth = {name: params.pop(name) for name in SENTINEL_AUTH if name in params}
        base = SENTINEL_SCHEMES[scheme.lower()]
        login = f"{userinfo}@" if userinfo else ""
        url = f"{base}://{login}sentinel/{db or 0}?{urlencode(params)}"
        parsed: dict[str, Any] = parse_url(url)  # type: ignore[no-untyped-call]
        tls = parsed.pop("connection_class", None) is not None
        for name in ("host", "port"):
            parsed.pop(name, None)
        sentinel = {k: v for k, v in parsed.items() if k.startswith(("ssl_", "socket_"))}
        if tls:
            parsed["ssl"] = sentinel["ssl"] = True
        sentinel.update({k.removeprefix("sentinel_"): unquote(v) for k, v in auth.items()})
        return cls(sentinels, unquote(service), parsed, sentinel)


def _address(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":") if not text.endswith("]") else ("", "", "")
    if not colon or not host:
        host, port = text, str(SENTINEL_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"redis_url: a Sentinel must be host:port, got {text!r}")
    return host, int(port)


class SentinelRedis(Redis):
    """The primary's asyncio client, closing the Sentinels' clients with its own pool."""

    manager: AsyncSentinel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        manager, self.manager = self.manager, None
        if manager is not None:
            await manager.aclose()


class SentinelSyncRedis(redis.Redis):
    """The primary's synchronous client, closing the Sentinels' clients with its own pool."""

    manager: redis.sentinel.Sentinel | None = None

    def close(self) -> None:
        super().close()
        manager, self.manager = self.manager, None
        if manager is not None:
            manager.close()


class BlockingSentinelPool(AsyncSentinelPool, BlockingConnectionPool):
    """The Sentinel pool, bounded and blocking: past `max_connections` a command waits for
    a free connection (at most `timeout` s) instead of failing at once."""


def async_client(url: str, *, pool_timeout: float | None = None, **options: Any) -> Redis:
    """`Redis.from_url(url, **options)`, the cluster client for a cluster URL, or the
    primary's client for a Sentinel URL.

    Typed as `Redis`: for keys of one slot the cluster client answers the same commands,
    pipelines and scripts (it routes each by its first key). `pool_timeout` makes the pool
    blocking (with `max_connections`): a command waits that long for a free connection
    (a cluster client's per-node pools are bounded, not blocking).
    """
    if is_cluster(url):
        return cast(Redis, AsyncRedisCluster.from_url(server_url(url), **options))
    if is_sentinel(url):
        parsed = SentinelUrl.parse(url)
        socket = {k: v for k, v in options.items() if k.startswith("socket_")}
        sentinel = AsyncSentinel(parsed.sentinels, sentinel_kwargs={**socket, **parsed.sentinel})
        kwargs: dict[str, Any] = {**parsed.connection, **options}
        if pool_timeout is not None:
            kwargs.update(connection_pool_class=BlockingSentinelPool, timeout=pool_timeout)
        client = sentinel.master_for(parsed.service, redis_class=SentinelRedis, **kwargs)
        client.manager = sentinel
        return cast(Redis, client)
    if pool_timeout is not None:
        return Redis.from_pool(
            BlockingConnectionPool.from_url(url, timeout=pool_timeout, **options)
        )
    return Redis.from_url(url, **options)


def sync_client(url: str, **options: Any) -> redis.Redis:
    """The synchronous twin of `async_client` (the simulator's terminals use it)."""
    if is_cluster(url):
        return cast(redis.Redis, RedisCluster.from_url(server_url(url), **options))
    if is_sentinel(url):
        parsed = SentinelUrl.parse(url)
        socket = {k: v for k, v in options.items() if k.startswith("socket_")}
        sentinel = redis.sentinel.Sentinel(
            parsed.sentinels, sentinel_kwargs={**socket, **parsed.sentinel}
        )
        kwargs: dict[str, Any] = {**parsed.connection, **options}
        client = sentinel.master_for(parsed.service, redis_class=SentinelSyncRedis, **kwargs)
        client.manager = sentinel
        return cast(redis.Redis, client)
    return redis.Redis.from_url(url, **options)
