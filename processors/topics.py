"""The pipeline's topics and keys, named as in DESIGN.md, built once per app."""

from __future__ import annotations

from functools import cache

from eaflow.models import Order, Result
from streams import App, JsonCodec, ModelCodec, Topic


class Topics:
    """`rtss`, `orders:{instance}`, `rtrs`, `rts`, `ris`, `security`, `ticks:{symbol}`."""

    def __init__(self, app: App, tick_maxlen: int = 1000, state_maxlen: int = 100_000) -> None:
        self.app = app
        self.prefix = app.settings.prefix
        self.rtss: Topic[object] = app.topic("rtss", codec=JsonCodec())
        self.rtrs: Topic[Result] = app.topic("rtrs", codec=ModelCodec(Result))
        self.rts: Topic[object] = app.topic("rts", codec=JsonCodec(), maxlen=state_maxlen)
        self.ris: Topic[object] = app.topic("ris", codec=JsonCodec(), maxlen=state_maxlen)
        self.security: Topic[object] = app.topic("security", codec=JsonCodec(), maxlen=state_maxlen)
        self.tick_maxlen = tick_maxlen

    @cache  # noqa: B019 - one Topic object per instance for the app's lifetime
    def orders(self, instance: str) -> Topic[Order]:
        return self.app.topic(f"orders:{instance}", codec=ModelCodec(Order))

    @cache  # noqa: B019
    def ticks(self, symbol: str) -> Topic[object]:
        return self.app.topic(f"ticks:{symbol}", codec=JsonCodec(), maxlen=self.tick_maxlen)

    def ticks_key(self, symbol: str) -> str:
        return f"{self.prefix}ticks:{symbol}"

    def state_key(self, instance: str) -> str:
        """Latest account snapshot of an instance (JSON of AccountState)."""
        return f"{self.prefix}state:{instance}"

    def order_records_key(self, instance: str) -> str:
        """Hash order_id → status: the executor's effectively-once record."""
        return f"{self.prefix}orec:{instance}"
