"""Console actions that leave no configuration version (a dead letter retried) recorded in
the `security` stream beside refusals, as `{"event": "console_action", "actor": ...}`."""

from __future__ import annotations

import time
from typing import Any

import orjson
import structlog

from eaflow.gateway.context import Gateway

log = structlog.get_logger(__name__)


async def record_action(gw: Gateway, actor: str, action: str, **detail: Any) -> None:
    """Logged, then appended to `security` (capped like the refusals)."""
    entry = {"event": "console_action", "actor": actor, "action": action, **detail}
    log.info("console_action", **{k: v for k, v in entry.items() if k != "event"})
    entry["ts"] = time.time()
    await gw.redis.xadd(
        gw.keys.security,
        {"d": orjson.dumps(entry)},
        maxlen=gw.config.security_maxlen,
        approximate=True,
    )
