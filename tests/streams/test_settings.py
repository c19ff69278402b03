"""AppSettings: documented defaults, and refusals that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streams import AppSettings


def test_defaults() -> None:
    settings = AppSettings()
    assert (settings.prefix, settings.max_deliveries, settings.block_ms) == ("ea:", 5, 1000)
    assert (settings.claim_interval, settings.claim_min_idle_ms) == (5.0, 30_000)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"block_ms": 5000}, "block_ms"),
        ({"max_deliveries": 0}, "max_deliveries"),
        ({"unknown": 1}, "unknown"),
        ({"socket_timeout": 0.5}, "socket_timeout: must be longer than block_ms"),
        ({"retry_initial": 5.0}, "retry_max: must be at least retry_initial"),
        ({"redis_url": "redis+cluster://h:7000", "prefix": "ea:"}, "prefix: on a Redis Cluster"),
        ({"redis_url": "redis+cluster://h:7000", "prefix": "x{ea}:"}, "must start with a hash"),
        (
            {"redis_url": "redis+cluster://h:7000", "prefix": "{ea}:", "wait_replicas": 1},
            "wait_replicas: WAIT is not supported on a Redis Cluster",
        ),
        ({"lease_ms": 50}, "lease_ms"),
        ({"wait_replicas": -1}, "wait_replicas"),
    ],
)
def test_refusals_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AppSettings.model_validate(fields)


def test_a_hash_tagged_prefix_runs_on_a_cluster() -> None:
    assert AppSettings(redis_url="redis+cluster://h:7000/0", prefix="{ea}:").prefix == "{ea}:"


def test_frozen() -> None:
    with pytest.raises(ValidationError, match="frozen"):
        AppSettings().prefix = "x:"  # type: ignore[misc]


def test_the_durability_wait_asks_one_replica_on_sentinel_and_none_on_one_server() -> None:
    assert not AppSettings().durability
    sentinel = AppSettings(redis_url="redis+sentinel://h:26379/mymaster")
    assert (sentinel.durability.replicas, sentinel.durability.timeout_ms) == (1, 1000)
    assert not AppSettings(redis_url="redis+sentinel://h:26379/m", wait_replicas=0).durability
    assert AppSettings(wait_replicas=2, wait_timeout_ms=50).durability.replicas == 2
    assert AppSettings(lease_ms=9000).lease_renew == 3.0
