"""Stream entries as the page shows them: the messages of `rtrs` and `trades` that decode."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from pydantic import ValidationError

from model import Result
from model.trade import TradeState

Shown = TypeVar("Shown", Result, TradeState)


def decoded(entries: Iterable[Any], model: type[Shown]) -> Iterator[Shown]:
    """Each entry's `d` as `model`, in the entries' order; one that does not decode (a
    foreign writer's, an older version's) is passed over: a page never fails on it."""
    for _, fields in entries:
        try:
            yield model.model_validate_json(fields.get(b"d", b""))
        except ValidationError:
            continue
