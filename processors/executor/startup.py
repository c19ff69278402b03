"""Open the brokers of the instances a worker hosts, and reconcile them before any order runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence

from brokers.factory import terminal_endpoint
from brokers.mt5.broker import Mt5Broker
from brokers.mt5.session import connect_with_retry
from model import InstanceSpec
from model.errors import MissingExtra
from processors.executor.reconcile import Reconciler


async def connect_instances(
    specs: Mapping[str, InstanceSpec],
    hosted: Sequence[str],
    factory: Callable[[InstanceSpec], Mt5Broker],
    mt5: str | None = None,
) -> dict[str, Mt5Broker]:
    """A connected broker per instance; waits for terminals that are not up yet (retrying
    every 5 s). ValueError when two instances would share one terminal: MT5 serves one
    account per terminal and one terminal per process."""
    terminals: dict[str, str] = {}
    for instance in hosted:
        spec = specs[instance]
        endpoint = terminal_endpoint(spec.broker, spec.login, mt5)
        if endpoint is None:
            continue
        if endpoint in terminals:
            raise ValueError(
                f"instances: {terminals[endpoint]} and {instance} both need the {endpoint} "
                "terminal; run one worker per terminal (eaflow worker orders --instance ID)"
            )
        terminals[endpoint] = instance
    brokers: dict[str, Mt5Broker] = {}
    for i in hosted:
        try:
            broker = factory(specs[i])
        except (MissingExtra, ValueError) as error:
            raise ValueError(f"instances: {i}: {error}") from error
        brokers[i] = broker
    await asyncio.gather(*(connect_with_retry(b, i) for i, b in brokers.items()))
    return brokers


async def reconcile_instances(
    reconciler: Reconciler, brokers: Mapping[str, Mt5Broker], specs: Mapping[str, InstanceSpec]
) -> None:
    """Finish orders a crash left `sent` and record external positions, instance by instance."""
    for instance, broker in brokers.items():
        await reconciler.run(instance, broker, specs[instance].magic)
