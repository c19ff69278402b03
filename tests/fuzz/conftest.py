"""Fuzz fixtures: an event loop to drive async handlers from hypothesis' synchronous tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


def assert_refusal(text: str) -> None:
    """A refusal's text: the field (or its path: any key a sender used), ": ", the rule."""
    field, _, rule = text.partition(": ")
    assert field and rule.strip(), f"refusal without field and rule: {text!r}"


@pytest.fixture
def run() -> Iterator[Callable[[Awaitable[Any]], Any]]:
    """`run(coroutine)` on one loop for the whole test (clients stay bound to it)."""
    loop = asyncio.new_event_loop()

    def call(awaitable: Awaitable[T]) -> T:
        return loop.run_until_complete(awaitable)

    yield call
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
