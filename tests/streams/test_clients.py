"""Client URLs: one server, or a Redis Cluster when the scheme carries `+cluster`."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster as AsyncRedisCluster
from redis.cluster import RedisCluster

from streams.clients import async_client, is_cluster, server_url, sync_client


@pytest.mark.parametrize(
    ("url", "cluster", "plain"),
    [
        ("redis://127.0.0.1:6379/0", False, "redis://127.0.0.1:6379/0"),
        ("rediss://h:6380/0", False, "rediss://h:6380/0"),
        ("unix:///run/redis.sock", False, "unix:///run/redis.sock"),
        ("redis+cluster://u:p@10.0.0.1:7000/0", True, "redis://u:p@10.0.0.1:7000/0"),
        ("REDISS+CLUSTER://h:7000", True, "rediss://h:7000"),
    ],
)
def test_the_scheme_says_which_client(url: str, cluster: bool, plain: str) -> None:
    assert (is_cluster(url), server_url(url)) == (cluster, plain)


async def test_a_server_url_gives_the_ordinary_clients(redis_url: str) -> None:
    client = async_client(redis_url)
    assert type(client) is Redis and await client.ping()
    await client.aclose()
    sync = sync_client(redis_url)
    assert not isinstance(sync, RedisCluster) and sync.ping()
    sync.close()


def test_a_cluster_url_gives_cluster_clients_without_connecting() -> None:
    """Built lazily: the nodes are discovered at the first command."""
    assert isinstance(async_client("redis+cluster://127.0.0.1:1/0"), AsyncRedisCluster)
