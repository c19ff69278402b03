"""The configuration's HTTP API on a real FastAPI app, Redis and DuckDB."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from eaflow.config import ConfigService
from eaflow.config.http import config_router
from processors.registry import InstanceRegistry


def client(service: ConfigService) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(config_router(service))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_change_read_and_history(service: ConfigService, registry: InstanceRegistry) -> None:
    async with client(service) as http:
        changed = await http.patch("/config", json={"set": {"max_open_orders": 3}, "note": "n"})
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert body["published"] and body["document"] == {"max_open_orders": 3}
        one = await http.patch(
            "/config/instances/a",
            json={"set": {"symbols.XAUUSD.lot_size": 0.5}, "unset": ["max_open_orders"]},
        )
        assert one.status_code == 200, one.text
        view = (await http.get("/config/instances/a")).json()
        assert view["config"]["max_open_orders"] == 3
        assert view["config"]["symbols"]["XAUUSD"]["lot_size"] == "0.5"
        assert view["version"] == one.json()["version"]
        listed = (await http.get("/config/instances")).json()
        assert [i["instance_id"] for i in listed] == ["a", "b"]
        assert listed[1]["config"]["max_open_orders"] == 7
        history = (await http.get("/config/history", params={"all": "true"})).json()
        assert [h["scope"] for h in history][:2] == ["a", "global"]
        assert history[0]["change"] == {
            "set": {"symbols.XAUUSD.lot_size": 0.5},
            "unset": ["max_open_orders"],
        }
    assert (await registry.all())["a"].config.for_symbol("XAUUSD").lot_size == 1 / 2


async def test_refusals_are_422_with_field_and_rule(service: ConfigService) -> None:
    async with client(service) as http:
        before = (await http.get("/config")).json()["version"]
        bad = await http.patch("/config", json={"set": {"risk_per_trade": 101}})
        assert bad.status_code == 422
        assert bad.json()["detail"] == {
            "field": "risk_per_trade",
            "scope": "global",
            "rule": "Input should be less than or equal to 100",
        }
        unknown = await http.patch("/config/instances/zz", json={"set": {"lot_size": 1}})
        assert unknown.status_code == 422 and unknown.json()["detail"]["field"] == "instance"
        empty = await http.patch("/config", json={})
        assert empty.status_code == 422 and empty.json()["detail"]["field"] == "set"
        extra = await http.patch("/config", json={"sett": {}})
        assert extra.status_code == 422
        assert (await http.get("/config")).json()["version"] == before


async def test_backup_and_restore(service: ConfigService, registry: InstanceRegistry) -> None:
    async with client(service) as http:
        await http.patch("/config", json={"set": {"slippage": 4}})
        backup_id = (await http.post("/config/backup")).json()["backup_id"]
        refused = await http.post("/config/restore", json={})
        assert refused.status_code == 422 and refused.json()["detail"]["field"] == "redis"
        await registry.redis.flushall()
        restored = await http.post("/config/restore", json={"backup_id": backup_id})
        assert restored.json() == {"backup_id": backup_id, "entries": 4}
    assert (await registry.all())["a"].config.slippage == 4


async def test_the_design_configuration_is_one_patch(
    service: ConfigService, registry: InstanceRegistry
) -> None:
    """The original design's configuration model as the body's `set`, field for field."""
    design = {
        "lot_size": 0.1,
        "max_drawdown": 5.0,
        "max_open_orders": 10,
        "trailing_stop": True,
        "slippage": 1.5,
    }
    async with client(service) as http:
        changed = await http.patch("/config/instances/a", json={"set": design})
        assert changed.status_code == 200, changed.text
    config = (await registry.all())["a"].config
    assert (config.lot_size, config.max_drawdown) == (Decimal("0.1"), Decimal(5))
    assert config.max_open_orders == 10
    assert config.trailing_stop.enabled and config.slippage == Decimal("1.5")
    assert config.deviation("EURUSD", 5) == 15 and config.deviation("USDJPY", 3) == 15
    assert config.deviation("XAUUSD", 2) == 2  # 1.5 pips of 1 point, half up
