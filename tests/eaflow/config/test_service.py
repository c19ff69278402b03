"""Changes through the service: validated, versioned in DuckDB, mirrored into Redis."""

from __future__ import annotations

from pathlib import Path

import pytest

from eaflow.config import GLOBAL, ConfigRefused, ConfigService, ConfigStore
from model import TradingState
from model.config import AlertSwitch
from processors.registry import InstanceRegistry


async def test_instances_found_in_redis_are_adopted_with_their_own_values(
    service: ConfigService,
) -> None:
    view = await service.get("b")
    assert view.document == {"max_open_orders": 7}
    assert view.config.max_open_orders == 7
    assert (await service.get("a")).document == {}
    history = await service.history()
    assert [(c.scope, c.actor) for c in history] == [("b", "adopt")]


async def test_a_change_is_versioned_and_published(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    applied = await service.set(GLOBAL, {"max_open_orders": "3", "lot_size": "0.10"}, "ops")
    assert applied.published and applied.document == {"max_open_orders": 3, "lot_size": "0.10"}
    specs = await registry.all()
    assert specs["a"].config.max_open_orders == 3
    assert specs["b"].config.max_open_orders == 7  # its own override wins
    assert {s.config_version for s in specs.values()} == {applied.version}
    assert await registry.version() == applied.version

    second = await service.set("a", {"symbols.XAUUSD.lot_size": "0.5"}, "ops", note="gold")
    assert second.version == applied.version + 1
    assert (await registry.all())["a"].config.for_symbol("XAUUSD").lot_size == 1 / 2
    last = (await service.history("a", limit=1))[0]
    assert (last.version, last.actor, last.note) == (second.version, "ops", "gold")
    assert last.change == {"set": {"symbols.XAUUSD.lot_size": "0.5"}}
    assert (last.before, last.after) == ({}, {"symbols": {"XAUUSD": {"lot_size": "0.5"}}})

    unset = await service.unset("a", ["symbols.XAUUSD.lot_size"], "ops")
    assert unset.document == {}
    assert (await registry.all())["a"].config.symbols == {}


async def test_an_invalid_change_is_refused_and_nothing_moves(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    before = await service.set(GLOBAL, {"max_open_orders": "4"}, "ops")
    with pytest.raises(ConfigRefused) as refused:
        await service.set(GLOBAL, {"max_open_orders": "-1"}, "ops")
    assert (refused.value.field, refused.value.rule) == (
        "max_open_orders",
        "Input should be greater than or equal to 0",
    )
    # a global change must leave every instance valid: b's override names a symbol
    await service.set("b", {"symbols.XAUUSD.slippage": "5"}, "ops")
    with pytest.raises(ConfigRefused) as refused:
        await service.set(GLOBAL, {"allowed_symbols": ["EURUSD"]}, "ops")
    assert refused.value.field == "symbols.XAUUSD"
    assert "instance b" in refused.value.rule
    with pytest.raises(ConfigRefused) as refused:
        await service.set("nobody", {"lot_size": "1"}, "ops")
    assert refused.value.field == "instance"
    assert (await service.get(GLOBAL)).document == {"max_open_orders": 4}
    assert await registry.version() == before.version + 1
    assert (await registry.all())["a"].config.max_open_orders == 4


def eaoff(source: str = "tradingview") -> AlertSwitch:
    return AlertSwitch(
        state=TradingState.HALTED, source=source, signal_id="s1", order_id=f"{source}/o1", at=1.0
    )


async def test_an_alerts_switch_and_the_operators_state_stay_apart(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    """An eaoff alert's switch is its own key: publishing leaves it, and the configuration
    (with its history) holds only the operator's state. The global kill switch set in Redis
    directly survives other changes."""
    await service.set(GLOBAL, {"slippage": "5"}, "ops")
    await registry.set_switch("a", eaoff())
    await registry.set_global_state(TradingState.REDUCING)
    await service.set(GLOBAL, {"slippage": "6"}, "ops")
    specs = await registry.all()
    assert specs["a"].config.trading_state is TradingState.ACTIVE  # the operator's
    assert specs["a"].config.slippage == 6
    assert await registry.switches(["a", "b"]) == {"a": eaoff()}
    assert (await service.get("a")).switch == eaoff()
    assert await registry.global_state() is TradingState.REDUCING
    await service.set("a", {"trading_state": "halted"}, "ops")
    await service.set(GLOBAL, {"trading_state": "halted"}, "ops")
    assert (await registry.all())["a"].config.trading_state is TradingState.HALTED
    assert await registry.switches(["a"]) == {"a": eaoff()}
    assert await registry.global_state() is TradingState.HALTED
    changes = [(c.scope, c.change) for c in await service.history(None, 2)]
    assert changes == [
        (GLOBAL, {"set": {"trading_state": "halted"}}),
        ("a", {"set": {"trading_state": "halted"}}),
    ]


async def test_an_instance_state_edited_in_redis_is_published_over(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    """Redis never says otherwise than the configuration after a publication: a spec whose
    trading_state was changed behind the configuration's back gets the stored one again."""
    await service.set("a", {"trading_state": "halted"}, "ops")
    spec = (await registry.all())["a"]
    resumed = spec.config.model_copy(update={"trading_state": TradingState.ACTIVE})
    await registry.put(spec.model_copy(update={"config": resumed}))
    await service.set(GLOBAL, {"slippage": "4"}, "ops")
    assert (await registry.all())["a"].config.trading_state is TradingState.HALTED


async def test_backup_and_restore_into_an_empty_redis(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    await service.set("a", {"max_open_orders": "2"}, "ops")
    await registry.set_switch("b", eaoff())
    backup_id = await service.backup()
    before = await registry.redis.hgetall(registry.keys.instances)
    version = await registry.version()
    await registry.redis.flushall()
    assert await service.restore() == (backup_id, 5)  # 2 specs, trading state, version, switch
    assert await registry.redis.hgetall(registry.keys.instances) == before
    assert await registry.version() == version
    assert await registry.switches(["a", "b"]) == {"b": eaoff()}
    with pytest.raises(ConfigRefused) as refused:
        await service.restore()
    assert refused.value.field == "redis"


async def test_a_backup_restores_alert_switches_under_another_prefix(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    await registry.set_switch("b", eaoff("switch"))
    await registry.set_switch("a", eaoff().model_copy(update={"state": TradingState.ACTIVE}))
    backup_id = await service.backup()
    other = InstanceRegistry(registry.redis, "switch:")  # a prefix to mislead the restore
    restored = await ConfigService(service.store, other).restore(backup_id)
    assert restored == (backup_id, 4)  # 2 specs, 2 switches
    assert (await other.switches(["a", "b"]))["b"] == eaoff("switch")
    assert (await other.switches(["a"]))["a"].state is TradingState.ACTIVE


async def test_restore_without_a_backup_publishes_the_store(
    service: ConfigService, registry: InstanceRegistry, db_path: Path
) -> None:
    applied = await service.set(GLOBAL, {"max_open_orders": "9"}, "ops")
    await registry.redis.flushall()
    fresh = ConfigService(ConfigStore(db_path), registry)
    assert await fresh.restore() == (0, 2)
    specs = await registry.all()
    assert specs["a"].config.max_open_orders == 9 and specs["b"].config.max_open_orders == 7
    assert await registry.version() == applied.version


async def test_without_redis_changes_are_stored_not_published(
    service: ConfigService, db_path: Path
) -> None:
    await service.get(GLOBAL)  # adopts a and b while Redis is at hand
    offline = ConfigService(ConfigStore(db_path))
    applied = await offline.set("a", {"lot_size": "0.2"}, "ops")
    assert not applied.published and applied.error == "no Redis given"
    published = await service.publish()
    assert published.published and published.version == applied.version
