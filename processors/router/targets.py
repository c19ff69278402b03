"""Which instances a signal goes to: named ones, a group, or every active instance."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from brokers.mt5.records import SymbolInfo
from model import Action, InstanceSpec, Signal, TradingState
from processors.router.copying import maps
from processors.rules import Refusal


def resolve_targets(
    signal: Signal,
    instances: Mapping[str, InstanceSpec],
    symbols: Mapping[str, Mapping[str, SymbolInfo]],
    switched_off: Collection[str] = (),
) -> list[InstanceSpec]:
    """Named instances must all exist; a broadcast picks the instances that trade the symbol
    and are neither halted by their configuration nor switched off by an eaoff alert
    (`switched_off`). A broadcast eaoff or eaon reaches every instance: an eaon is for
    the switched-off ones, and an eaoff holds even while an operator's halt stands."""
    if signal.instances:
        unknown = [i for i in signal.instances if i not in instances]
        if unknown:
            raise Refusal("instances", f"unknown instance {', '.join(unknown)}")
        return [instances[i] for i in dict.fromkeys(signal.instances)]
    if signal.group is not None:
        chosen = [s for s in instances.values() if signal.group in s.groups]
        if not chosen:
            raise Refusal("group", f"no instance belongs to group {signal.group}")
        return chosen
    switch = signal.action in (Action.HALT, Action.RESUME)
    chosen = [
        s
        for s in instances.values()
        if switch
        or (
            s.config.trading_state is not TradingState.HALTED
            and s.instance_id not in switched_off
            and (signal.symbol is None or _trades(s, signal.symbol, symbols))
        )
    ]
    if not chosen:
        raise Refusal("instances", f"no active instance may trade {signal.symbol or 'anything'}")
    return chosen


def _trades(
    spec: InstanceSpec, symbol: str, symbols: Mapping[str, Mapping[str, SymbolInfo]]
) -> bool:
    allowed = not spec.config.allowed_symbols or symbol in spec.config.allowed_symbols
    return allowed and maps(symbol, spec.config, symbols.get(spec.instance_id, {}))
