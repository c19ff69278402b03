"""What the test apps share: their settings from the environment the test gives them.

FAUST_TEST_REDIS (the broker's Redis URL), FAUST_TEST_PARTITIONS (4), FAUST_TEST_SESSION
(session timeout, s: how long a killed worker keeps its partitions), FAUST_TEST_WORKER
(name in the app's canonical URL, so workers of one app differ).
"""

from __future__ import annotations

import os
from typing import Any

import faust

REDIS = os.environ.get("FAUST_TEST_REDIS", "redis://127.0.0.1:6379/0")
PARTITIONS = int(os.environ.get("FAUST_TEST_PARTITIONS", "4"))


def create_app(name: str, **settings: Any) -> faust.App:
    session = float(os.environ.get("FAUST_TEST_SESSION", "6"))
    worker = os.environ.get("FAUST_TEST_WORKER", "w0")
    return faust.App(
        name,
        broker=REDIS,
        store="memory://",
        topic_partitions=PARTITIONS,
        broker_session_timeout=session,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=session * 2,
        broker_commit_interval=0.5,
        canonical_url=f"http://{worker}.test:6066",
        **settings,
    )
