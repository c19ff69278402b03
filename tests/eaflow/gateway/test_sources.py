"""Sources in Redis: the first-start secret, bindings and validation."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from eaflow.gateway.sources import DEFAULT_SOURCE, Source, SourceStore


async def test_the_first_start_creates_one_source_with_a_strong_secret(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    store = SourceStore(client, "ea:")
    try:
        created = await store.ensure_default()
        assert created is not None and created.name == DEFAULT_SOURCE
        assert len(created.secret) >= 32 and created.bound_to_all
        assert await store.ensure_default() is None
        assert await store.get(DEFAULT_SOURCE) == created
        other = SourceStore(client, "other:")
        assert (await other.ensure_default()) != created
        assert await store.remove(DEFAULT_SOURCE) and await store.all() == {}
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"secret": "short"}, "secret"),
        ({"instances": ()}, "instances"),
        ({"instances": ("*", "demo-1")}, "instances"),
        ({"allow": ("300.1.1.1",)}, "allow"),
        ({"name": "bad name"}, "name"),
        ({"volume_type": "shares"}, "volume_type"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_invalid_sources_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Source.model_validate({"name": "s", "secret": "x" * 20, **fields})
    assert refused.value.errors()[0]["loc"][0] == field


def test_the_secret_stays_out_of_the_repr() -> None:
    assert "x" * 20 not in repr(Source(name="s", secret="x" * 20))
