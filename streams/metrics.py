"""Prometheus metrics of the runtime: events by outcome, batch time, stream and group gauges."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PROCESSED = Counter(
    "eaflow_stream_events_processed", "Entries handled and acked.", ["stream", "group"]
)
EVENTS_FAILED = Counter(
    "eaflow_stream_events_failed",
    "Failed deliveries, left pending for a retry.",
    ["stream", "group"],
)
EVENTS_DEFERRED = Counter(
    "eaflow_stream_events_deferred",
    "Deliveries put off by their handler (Defer), left pending to handle later.",
    ["stream", "group"],
)
EVENTS_DEAD_LETTERED = Counter(
    "eaflow_stream_events_dead_lettered", "Entries moved to their DLQ.", ["stream", "group"]
)
EVENTS_BY_KIND = {
    "done": EVENTS_PROCESSED,
    "failed": EVENTS_FAILED,
    "deferred": EVENTS_DEFERRED,
    "dead": EVENTS_DEAD_LETTERED,
}
"""The counter of each way an event ends (a dropped entry, deleted while pending, has none)."""
BATCH_SECONDS = Histogram(
    "eaflow_stream_batch_seconds",
    "Time to handle and commit one batch.",
    ["group"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STREAM_LENGTH = Gauge("eaflow_stream_length", "Entries in the stream (XLEN).", ["stream"])
GROUP_PENDING = Gauge(
    "eaflow_stream_group_pending", "Delivered but not acked entries.", ["stream", "group"]
)
GROUP_LAG = Gauge(
    "eaflow_stream_group_lag", "Entries not yet delivered to the group.", ["stream", "group"]
)
GROUP_CONSUMERS = Gauge(
    "eaflow_stream_group_consumers", "Consumers known to the group.", ["stream", "group"]
)
DLQ_LENGTH = Gauge("eaflow_stream_dlq_length", "Entries in the stream's DLQ.", ["stream"])
