"""Prometheus metrics of the sinks: rows written, duplicates skipped, failures, lag."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SINK_ROWS = Counter("eaflow_sink_rows_total", "Results inserted by a sink", ["sink"])
SINK_DUPLICATES = Counter(
    "eaflow_sink_duplicates_total", "Results a sink skipped as already stored", ["sink"]
)
SINK_FAILURES = Counter(
    "eaflow_sink_failures_total", "Batch writes that failed and will be retried", ["sink"]
)
SINK_LAG = Gauge(
    "eaflow_sink_lag",
    "Entries of its stream (rtrs, trades, rts) a sink has not written yet (lag + pending)",
    ["sink"],
)
SINK_BATCH_SECONDS = Histogram(
    "eaflow_sink_batch_seconds",
    "Time to write one batch of results",
    ["sink"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
NOTIFICATIONS = Counter(
    "eaflow_notifications_total",
    "Notifications the notifier sent, or failed to send (its batch is retried)",
    ["outcome"],
)
