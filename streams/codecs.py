"""Codecs for the `d` field of entries: orjson for plain data, pydantic for models."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from streams.errors import DecodeError

M = TypeVar("M", bound=BaseModel)


class JsonCodec:
    """dicts, lists and scalars as JSON through orjson."""

    def encode(self, value: Any) -> bytes:
        return orjson.dumps(value)

    def decode(self, data: bytes) -> Any:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise DecodeError(f"d: is not valid JSON ({exc})") from None


class ModelCodec(Generic[M]):
    """A pydantic model through pydantic's own JSON: parsed and validated in one pass.

    Example: ``ModelCodec(Order)``; a refusal reads ``"volume: Input should be greater than 0"``.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model

    def encode(self, value: M) -> bytes:
        if not isinstance(value, self.model):
            raise TypeError(f"expected {self.model.__name__}, got {type(value).__name__}")
        return value.model_dump_json().encode()

    def decode(self, data: bytes) -> M:
        try:
            return self.model.model_validate_json(data)
        except ValidationError as exc:
            raise DecodeError(describe(exc)) from None

    def __repr__(self) -> str:
        return f"ModelCodec({self.model.__name__})"


def describe(error: ValidationError, limit: int = 3) -> str:
    """The failing fields and their rules, e.g. ``"volume: Input should be greater than 0"``."""
    parts = []
    for item in error.errors()[:limit]:
        loc = ".".join(str(part) for part in item["loc"]) or "d"
        parts.append(f"{loc}: {item['msg']}")
    more = error.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)
