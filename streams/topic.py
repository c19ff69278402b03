"""`Topic`: a named Redis stream and the codec of its entries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from streams.reader import text
from streams.types import Codec, Command, T

FIELD = b"d"
"""The one field of an entry, holding the codec's bytes."""


class Topic(Generic[T]):
    """A stream `{prefix}{name}` whose entries hold one `d` field encoded by `codec`.

    Built by `App.topic`; `maxlen` caps the stream approximately (XADD MAXLEN ~), for
    streams such as ticks whose old entries may purge themselves.
    """

    def __init__(
        self, name: str, codec: Codec[T], *, prefix: str, redis: Redis, maxlen: int | None = None
    ) -> None:
        if not name:
            raise ValueError("name: must not be empty")
        if maxlen is not None and maxlen <= 0:
            raise ValueError(f"maxlen: must be positive, got {maxlen}")
        self.redis = redis
        self.name = name
        self.prefix = prefix
        self.key = f"{prefix}{name}"
        self.codec = codec
        self.maxlen = maxlen

    @property
    def value_type(self) -> type:
        """The model a `ModelCodec` validates, `object` for schemaless codecs."""
        model = getattr(self.codec, "model", object)
        return model if isinstance(model, type) else object

    def encode(self, value: T) -> bytes:
        return self.codec.encode(value)

    def decode(self, data: bytes) -> T:
        return self.codec.decode(data)

    def xadd(self, data: bytes) -> Command:
        """The XADD command appending already encoded `data`."""
        if self.maxlen is None:
            return ("XADD", self.key, "*", FIELD, data)
        return ("XADD", self.key, "MAXLEN", "~", self.maxlen, "*", FIELD, data)

    def fields(self, value: T) -> dict[FieldT, EncodableT]:
        """The fields of an entry holding `value`."""
        return {FIELD: self.codec.encode(value)}

    def limits(self) -> dict[str, Any]:
        """XADD keyword arguments that cap the stream, if it is capped."""
        return {} if self.maxlen is None else {"maxlen": self.maxlen, "approximate": True}

    async def send(self, value: T) -> str:
        """Append one value; returns its entry id. For producers outside agents."""
        return text(await self.redis.xadd(self.key, self.fields(value), **self.limits()))

    async def send_many(self, values: Iterable[T]) -> list[str]:
        """Append many values in one pipelined round trip; returns their ids in order."""
        pipe = self.redis.pipeline(transaction=False)
        for value in values:
            pipe.xadd(self.key, self.fields(value), **self.limits())
        return [text(entry_id) for entry_id in await pipe.execute()]

    def __repr__(self) -> str:
        return f"Topic({self.key!r}, {self.codec!r})"
