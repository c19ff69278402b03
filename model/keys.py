"""Every Redis key of a deployment, as a function of its prefix: the one home of the layout.

Topics, gateway, registry, manager, state sync, executor records, the simulator's books and
the ACL rules all take their key names from here. `Keys("")` gives the names relative to
the prefix (as `eaflow status` shows them); with `"*"` for an id they are the glob patterns
the ACL file grants, e.g. ``Keys("").orders("*") == "orders:*"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.dlq import dlq_key, fails_key


@dataclass(frozen=True, slots=True)
class Keys:
    """Example: ``Keys("ea:").ticks("EURUSD") == "ea:ticks:EURUSD"``."""

    prefix: str = "ea:"

    def key(self, name: str) -> str:
        """Any name under the prefix (a stream named as in `eaflow status`)."""
        return f"{self.prefix}{name}"

    # -- streams ---------------------------------------------------------------------------

    @property
    def rtss(self) -> str:
        """Trade signals: raw signals from the gateway, `eaflow send` and plugins."""
        return f"{self.prefix}rtss"

    @property
    def rtrs(self) -> str:
        """Trade results: one terminal result per order."""
        return f"{self.prefix}rtrs"

    @property
    def rts(self) -> str:
        """Trade state: account snapshots."""
        return f"{self.prefix}rts"

    @property
    def trades(self) -> str:
        """Trade states: an entry each time a trade opens, changes or closes (TradeState)."""
        return f"{self.prefix}trades"

    @property
    def ris(self) -> str:
        """Instance state: heartbeats and status changes."""
        return f"{self.prefix}ris"

    @property
    def security(self) -> str:
        """Refused webhooks and other security events."""
        return f"{self.prefix}security"

    def orders(self, instance: str) -> str:
        """Validated, sized orders of one instance, read by its executor only."""
        return f"{self.prefix}orders:{instance}"

    def ticks(self, symbol: str) -> str:
        """Ticks of one symbol (MT5 `Tick` fields), capped at about 1,000 entries."""
        return f"{self.prefix}ticks:{symbol}"

    def dlq(self, topic: str) -> str:
        """Dead letters of a topic (a name relative to the prefix, e.g. `orders:demo-1`)."""
        return dlq_key(self.prefix, topic)

    def fails(self, topic: str, group: str) -> str:
        """Failed deliveries of a topic's entries in a consumer group."""
        return fails_key(self.prefix, topic, group)

    # -- the registry (written by the configuration service) ------------------------------

    @property
    def instances(self) -> str:
        """Hash instance id → InstanceSpec (JSON)."""
        return f"{self.prefix}instances"

    @property
    def instances_rev(self) -> str:
        """A new random token on every write of `instances`: readers skip unchanged specs."""
        return f"{self.prefix}instances:rev"

    @property
    def instances_status(self) -> str:
        """Hash instance → its last InstanceReport (the manager's)."""
        return f"{self.prefix}instances:status"

    @property
    def instances_desired(self) -> str:
        """Hash instance → "running" / "stopped": an operator's wish."""
        return f"{self.prefix}instances:desired"

    @property
    def instances_restart(self) -> str:
        """Hash instance → time a restart was asked for."""
        return f"{self.prefix}instances:restart"

    @property
    def trading_state(self) -> str:
        """The global kill switch: active, reducing or halted."""
        return f"{self.prefix}trading_state"

    def switch(self, instance: str) -> str:
        """An alert's eaoff/eaon of one instance (AlertSwitch JSON), written by the router;
        apart from the operator's trading_state in `instances`, which only the
        configuration changes."""
        return f"{self.prefix}switch:{instance}"

    def risk(self, instance: str) -> str:
        """Hash of an instance's risk periods, written by the router: `start:{period}` (the
        equity the day or week started with), `trades:{day}` (opens routed) and
        `breach:{period}` (the limit hit, JSON); deleting it lifts a breach."""
        return f"{self.prefix}risk:{instance}"

    @property
    def config_version(self) -> str:
        """The configuration version last published."""
        return f"{self.prefix}config:version"

    @property
    def config_applied(self) -> str:
        """Hash instance → the configuration version it applies."""
        return f"{self.prefix}config:applied"

    def symbols(self, instance: str) -> str:
        """Hash symbol → SymbolInfo (JSON) of an instance's broker."""
        return f"{self.prefix}symbols:{instance}"

    @property
    def symbols_rev(self) -> str:
        """A new token whenever an instance's symbols are published ('@' is in no id)."""
        return f"{self.prefix}symbols:@rev"

    # -- the executor's records -----------------------------------------------------------

    def state(self, instance: str) -> str:
        """The latest account snapshot of an instance (AccountState JSON)."""
        return f"{self.prefix}state:{instance}"

    @property
    def trades_open(self) -> str:
        """Hash instance → its open trades' last TradeState entries (a JSON list): what the
        instance manager compares each poll with, across restarts."""
        return f"{self.prefix}trades:open"

    def order_records(self, instance: str) -> str:
        """Hash order_id → status: the effectively-once record."""
        return f"{self.prefix}orec:{instance}"

    def sent_orders(self, instance: str) -> str:
        """Hash order_id → the order (JSON) while it is `sent` and not yet finished."""
        return f"{self.prefix}osent:{instance}"

    def comments(self, instance: str) -> str:
        """Hash MT5 comment → order_id: recognises our positions and deals."""
        return f"{self.prefix}ocomment:{instance}"

    def alert_trailing(self, instance: str) -> str:
        """Hash MT5 comment → `{"trailing": TrailingStop, "at": seconds}`: the trailing stop
        an alert gave its order, written by the router, applied to the position by the ticks
        agent (which drops it a day after the position or order is gone)."""
        return f"{self.prefix}ptrail:{instance}"

    def external(self, instance: str) -> str:
        """Hash `position:<ticket>` / `order:<ticket>` → JSON: trades eaflow did not place."""
        return f"{self.prefix}external:{instance}"

    # -- ticks, gateway, simulator --------------------------------------------------------

    @property
    def tick_subscriptions(self) -> str:
        """Sorted set symbol → last time someone asked for its ticks."""
        return f"{self.prefix}tick_subscriptions"

    @property
    def sources(self) -> str:
        """Hash source name → webhook source (JSON, with its secret)."""
        return f"{self.prefix}sources"

    def gateway_rate(self, source: str, window: int) -> str:
        """Requests of a webhook source in one minute window."""
        return f"{self.prefix}gateway:rate:{source}:{window}"

    def sim(self, kind: str, login: int | str) -> str:
        """A simulated account's book (`account`, `positions`, `orders`, `deals`...)."""
        return f"{self.prefix}sim:{kind}:{login}"

    @property
    def sim_tickets(self) -> str:
        """The simulated trade server's ticket counter."""
        return f"{self.prefix}sim:tickets"

    @property
    def sim_closed(self) -> str:
        """Simulated positions closed by the tick worker, for the executor to report."""
        return f"{self.prefix}sim:closed"


SANDBOX_ROOT = "eaflow-replay:"
"""Prefixes of the throwaway key spaces where `eaflow replay` re-runs a recorded range."""

NAMES = Keys("")
"""Names relative to the prefix; with `"*"` for an id, the ACL's patterns."""
