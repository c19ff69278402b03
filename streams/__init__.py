"""Faust's programming model (app, topics, agents, timers) on Redis Streams."""

from streams.agent import Agent
from streams.app import App
from streams.batch import Batch
from streams.codecs import JsonCodec, ModelCodec
from streams.columns import Columns
from streams.errors import DecodeError, Defer, Poison
from streams.event import Event
from streams.handlers import BatchHandler, ColumnsHandler, Handler, StreamsHandler
from streams.inspect import GroupStatus, StreamStatus, stream_status, trim_acked
from streams.outbox import Outbox
from streams.settings import AppSettings
from streams.topic import Topic
from streams.types import Codec

__all__ = [
    "Agent",
    "App",
    "AppSettings",
    "Batch",
    "BatchHandler",
    "Codec",
    "Columns",
    "ColumnsHandler",
    "DecodeError",
    "Defer",
    "Event",
    "GroupStatus",
    "Handler",
    "JsonCodec",
    "ModelCodec",
    "Outbox",
    "Poison",
    "StreamStatus",
    "StreamsHandler",
    "Topic",
    "stream_status",
    "trim_acked",
]
