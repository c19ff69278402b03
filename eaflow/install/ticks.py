"""The `ticks` worker: the recorded tick feed, the tick table and the `ticks` agent.

`eaflow worker ticks` (and `eaflow run`) replays the shipped recordings into `ticks:{symbol}`
and runs the agent that buffers them and trades the simulated instances on them. Run one
`ticks` worker per Redis: a second would replay the same recordings again.
"""

from __future__ import annotations

import structlog

from brokers.factory import sim_symbols
from brokers.sim.symbols import default_symbols
from brokers.sim.terminal import SERVER, SimTerminal
from eaflow.install.pipeline import Pipeline
from model import InstanceSpec
from processors.ticks.accounts import TickAccount
from processors.ticks.agent import GROUP, TickAgent
from processors.ticks.replay import TickReplay
from streams.clients import sync_client
from streams.table import TableConfig

log = structlog.get_logger(__name__)

REFRESH_INTERVAL = 1.0
REPORT_INTERVAL = 5.0
BATCH_SIZE = 1000


def sim_account(spec: InstanceSpec, redis_url: str, prefix: str) -> TickAccount | None:
    """A ticks-side session on a simulated instance (None, logged, if it cannot attach)."""
    try:
        symbols = sim_symbols(spec.broker)
    except ValueError as error:
        log.warning("ticks.account_unavailable", instance=spec.instance_id, error=str(error))
        return None
    terminal = SimTerminal(sync_client(redis_url), prefix=prefix, symbols=symbols)
    if not terminal.initialize(login=spec.login, server=SERVER):
        log.warning(
            "ticks.account_unavailable", instance=spec.instance_id, error=str(terminal.last_error())
        )
        return None
    return TickAccount(
        spec.instance_id, terminal, spec.config, spec.magic, terminal.on_tick, symbols.streams
    )


class SimAccounts:
    """Keeps one TickAccount per hosted `sim://` instance in step with the registry."""

    def __init__(self, p: Pipeline, agent: TickAgent) -> None:
        self.p = p
        self.agent = agent
        self.specs: dict[str, InstanceSpec] = {}

    async def sync(self) -> None:
        specs = await self.p.registry.all()
        hosted = {
            i: s for i, s in specs.items()
            if s.broker.startswith("sim:") and (not self.p.instances or i in self.p.instances)
        }  # fmt: skip
        for instance, spec in hosted.items():
            known = self.specs.get(instance)
            if known == spec:
                continue
            account = self.agent.accounts.get(instance)
            same = known is not None and (known.login, known.broker) == (spec.login, spec.broker)
            if account is not None and same:
                account.trailer.configure(spec.config)
                account.trailer.magic = spec.magic
            else:
                account = sim_account(spec, self.p.redis_url, self.p.settings.prefix)
                if account is None:
                    continue
                self.agent.accounts[instance] = account
            self.specs[instance] = spec
        for gone in set(self.agent.accounts) - set(hosted):
            del self.agent.accounts[gone]
            self.specs.pop(gone, None)


async def install_ticks(p: Pipeline) -> None:
    """Feed, table, agent and timers of the `ticks` worker topic."""
    replay = TickReplay(p.redis, p.settings.prefix, p.replay)
    p.app.task(replay.run, name="ticks.replay")
    symbols = sorted(set(replay.files()) | {info.name for info in default_symbols()})
    table = p.app.table("ticks", TableConfig(capacity=p.replay.maxlen))
    agent = TickAgent(p.topics, table)
    accounts = SimAccounts(p, agent)
    await accounts.sync()

    async def refresh() -> None:
        await accounts.sync()
        await agent.refresh()

    await agent.refresh()
    p.app.agent(
        [p.topics.ticks(s) for s in symbols], group=GROUP, batch="columns", batch_size=BATCH_SIZE
    )(agent.handle)
    p.app.timer(REFRESH_INTERVAL, name="ticks.refresh")(refresh)
    p.app.timer(REPORT_INTERVAL, name="ticks.report")(agent.report)
    speed = f"×{p.replay.speed:g}" if p.replay.speed else "as fast as possible"
    p.running.append(
        f"tick feed: {', '.join(sorted(replay.files()))} recorded → ticks:{{symbol}} at {speed}"
    )
    p.running.append(
        f"ticks: table, sim fills, SL/TP, trailing of {len(agent.accounts)} instances (group ticks)"
    )
