"""Redis clients from URLs: one server, or a Redis Cluster when the scheme says `+cluster`.

`redis://`, `rediss://` and `unix://` give a client of one server; `redis+cluster://host:port`
(`rediss+cluster://` with TLS) gives a cluster client that discovers the other nodes from
that one. A pipeline's keys must then share one hash slot, because its commits are one Lua
script over several streams: give it a hash-tagged prefix such as `{ea}:` (docs/scaling.md).
"""

from __future__ import annotations

from typing import Any, cast

import redis
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster(url: str) -> bool:
    """Whether `url` names a Redis Cluster (`redis+cluster://`, `rediss+cluster://`)."""
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def server_url(url: str) -> str:
    """The URL redis-py parses: `redis+cluster://h:p/0` → `redis://h:p/0`."""
    scheme, sep, rest = url.partition("://")
    return f"{CLUSTER_SCHEMES.get(scheme.lower(), scheme)}{sep}{rest}"


def async_client(url: str, **options: Any) -> Redis:
    """`Redis.from_url(url, **options)`, or the cluster client for a cluster URL.

    Typed as `Redis`: for keys of one slot the cluster client answers the same commands,
    pipelines and scripts (it routes each by its first key).
    """
    if is_cluster(url):
        return cast(Redis, AsyncRedisCluster.from_url(server_url(url), **options))
    return Redis.from_url(url, **options)


def sync_client(url: str, **options: Any) -> redis.Redis:
    """The synchronous twin of `async_client` (the simulator's terminals use it)."""
    if is_cluster(url):
        return cast(redis.Redis, RedisCluster.from_url(server_url(url), **options))
    return redis.Redis.from_url(url, **options)
