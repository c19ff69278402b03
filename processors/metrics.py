"""Prometheus metrics of the processors: signals, orders, results, latency."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SIGNALS_RECEIVED = Counter("eaflow_signals_received_total", "Signals read from rtss")
SIGNALS_REJECTED = Counter(
    "eaflow_signals_rejected_total", "Signals or orders refused before the broker", ["field"]
)
ORDERS_SENT = Counter(
    "eaflow_orders_sent_total", "Trade requests sent to a broker", ["instance_id"]
)
RESULTS = Counter(
    "eaflow_results_total", "Terminal results by status and retcode", ["status", "retcode"]
)
SIGNAL_LATENCY = Histogram(
    "eaflow_signal_to_result_seconds",
    "From signal creation to its terminal result",
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
STATE_SYNC_ENABLED = Gauge(
    "eaflow_state_sync_enabled", "1 while account state reaches Redis, 0 while sync is disabled"
)
REDIS_RECONNECTS = Counter(
    "eaflow_redis_reconnects_total", "Times state sync found Redis back after an outage"
)
TRADING_STATE = Gauge(
    "eaflow_trading_state",
    "The router's view of a kill switch: 0 active, 1 reducing, 2 halted (scope: global or an "
    "instance's trading_state)",
    ["scope"],
)
RISK_LIMIT_HIT = Gauge(
    "eaflow_risk_limit_hit",
    "1 while a loss limit holds the instance reducing or halted until its next period",
    ["instance_id"],
)
