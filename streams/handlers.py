"""What an agent runs: a handler of one event, or of a whole batch, with its outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from streams.batch import Batch
from streams.columns import Columns
from streams.event import Event
from streams.outbox import Outbox
from streams.types import T

Handler = Callable[[Event[T], Outbox], Awaitable[None]]
"""Handles one event; its outputs go to the outbox and commit with its ack."""

BatchHandler = Callable[[list[Event[T]], Outbox], Awaitable[None]]
"""Handles a whole batch; the outputs and every ack commit together or not at all."""

StreamsHandler = Callable[[Batch[T]], Awaitable[None]]
"""Handles a whole batch with a verdict per event; one commit unit per stream."""

ColumnsHandler = Callable[[Mapping[str, Columns], Outbox], Awaitable[None]]
"""Handles a whole batch as undecoded columns per stream; all or nothing, as `BatchHandler`."""
