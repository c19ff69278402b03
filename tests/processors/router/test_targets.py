"""Target resolution: named instances, groups, broadcast to active instances."""

from __future__ import annotations

import pytest

from brokers.mt5.records import SymbolInfo
from model import InstanceSpec, Signal, TradingConfig, TradingState
from processors.router.targets import resolve_targets
from processors.rules import Refusal


def spec(
    name: str,
    *groups: str,
    state: TradingState = TradingState.ACTIVE,
    allowed: tuple[str, ...] = (),
) -> InstanceSpec:
    config = TradingConfig(trading_state=state, allowed_symbols=allowed)
    return InstanceSpec(instance_id=name, login=1, groups=groups, config=config)


def test_named_group_and_broadcast(eurusd: SymbolInfo) -> None:
    instances = {
        "a": spec("a", "fund"),
        "b": spec("b", "fund", state=TradingState.HALTED),
        "c": spec("c", allowed=("XAUUSD",)),
        "d": spec("d"),
    }
    symbols = {name: {"EURUSD": eurusd} for name in instances}

    def ids(**fields: object) -> list[str]:
        body = {"symbol": "EURUSD", "order_type": "buy", **fields}
        targets = resolve_targets(Signal.model_validate(body), instances, symbols)
        return [t.instance_id for t in targets]

    assert ids(instances=["d", "a", "d"]) == ["d", "a"]
    assert ids(group="fund") == ["a", "b"]  # the halted one gets its own refusal later
    assert ids() == ["a", "d"]  # broadcast: active and allowed to trade EURUSD
    with pytest.raises(Refusal, match="unknown instance x"):
        ids(instances=["a", "x"])
    with pytest.raises(Refusal) as caught:
        ids(group="nobody")
    assert caught.value.field == "group"


def test_a_broadcast_skips_switched_off_instances_but_eaoff_and_eaon_reach_all(
    eurusd: SymbolInfo,
) -> None:
    """A broadcast order passes by an instance an operator halted and one an eaoff alert
    switched off; an eaon is for the switched-off ones, and an eaoff holds even under an
    operator's halt (it stays off after the operator resumes)."""
    instances = {"a": spec("a"), "b": spec("b", state=TradingState.HALTED), "c": spec("c")}
    symbols = {name: {"EURUSD": eurusd} for name in instances}
    buy = Signal.model_validate({"symbol": "EURUSD", "order_type": "buy"})
    assert [t.instance_id for t in resolve_targets(buy, instances, symbols, {"c"})] == ["a"]
    for action in ("resume", "halt"):
        signal = Signal.model_validate({"action": action})
        targets = resolve_targets(signal, instances, {}, {"c"})
        assert [t.instance_id for t in targets] == ["a", "b", "c"]
