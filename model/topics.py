"""The pipeline's topics: each stream with its codec and cap, built once per app."""

from __future__ import annotations

from functools import cache

from model.keys import NAMES, Keys
from model.order import Order
from model.result import Result
from model.trade import TradeState
from streams import App, JsonCodec, ModelCodec, Topic

TICK_MAXLEN = 1000
"""Ticks kept per symbol stream (XADD MAXLEN ~): old ticks purge themselves."""

STATE_MAXLEN = 100_000
"""Entries kept in the state, instance and security streams."""


class Topics:
    """`rtss`, `orders:{instance}`, `rtrs`, `rts`, `trades`, `ris`, `security`, `ticks:{symbol}`.

    Producers outside agents publish through these too (`topics.rtss.send(signal)`, or
    `pipe.xadd(t.key, t.fields(value), **t.limits())`), so every entry has its topic's codec.
    """

    def __init__(
        self, app: App, tick_maxlen: int = TICK_MAXLEN, state_maxlen: int = STATE_MAXLEN
    ) -> None:
        self.app = app
        self.prefix = app.settings.prefix
        self.keys = Keys(self.prefix)
        self.rtss: Topic[object] = app.topic(NAMES.rtss, codec=JsonCodec())
        self.rtrs: Topic[Result] = app.topic(NAMES.rtrs, codec=ModelCodec(Result))
        self.rts: Topic[object] = app.topic(NAMES.rts, codec=JsonCodec(), maxlen=state_maxlen)
        self.trades: Topic[TradeState] = app.topic(
            NAMES.trades, codec=ModelCodec(TradeState), maxlen=state_maxlen
        )
        self.ris: Topic[object] = app.topic(NAMES.ris, codec=JsonCodec(), maxlen=state_maxlen)
        self.security: Topic[object] = app.topic(
            NAMES.security, codec=JsonCodec(), maxlen=state_maxlen
        )
        self.tick_maxlen = tick_maxlen

    @cache  # noqa: B019 - one Topic object per instance for the app's lifetime
    def orders(self, instance: str) -> Topic[Order]:
        return self.app.topic(NAMES.orders(instance), codec=ModelCodec(Order))

    @cache  # noqa: B019
    def ticks(self, symbol: str) -> Topic[object]:
        return self.app.topic(NAMES.ticks(symbol), codec=JsonCodec(), maxlen=self.tick_maxlen)
