"""The configuration store's migrations on a DuckDB file written by an older eaflow."""

from __future__ import annotations

from pathlib import Path

import orjson

from eaflow.config import ConfigStore
from eaflow.config.store import TABLES
from model import InstanceSpec, TradingConfig
from sinks.database import connect, migrate


def test_a_stored_slippage_in_points_becomes_slippage_points(tmp_path: Path) -> None:
    """Before version 2 `slippage` was MT5 points; afterwards it is pips, so a stored value
    moves to `slippage_points`, in the scope and in its per-symbol overrides."""
    path = tmp_path / "config.duckdb"
    db = connect(path)
    migrate(db, "config", [(1, TABLES)])
    old = {"slippage": 7, "symbols": {"XAUUSD": {"slippage": 30, "lot_size": "0.1"}}}
    db.execute("INSERT INTO config_scopes VALUES ('global', ?)", [orjson.dumps(old).decode()])
    db.execute("INSERT INTO config_scopes VALUES ('a', ?)", ['{"max_open_orders": 3}'])
    db.close()
    scopes = ConfigStore(path).snapshot().scopes
    assert scopes["global"] == {
        "slippage_points": 7,
        "symbols": {"XAUUSD": {"slippage_points": 30, "lot_size": "0.1"}},
    }
    assert scopes["a"] == {"max_open_orders": 3}


def test_a_spec_published_before_pips_keeps_its_points() -> None:
    """Redis may hold specs published by an older eaflow until the next publish: their
    whole configuration has `slippage` in points and no `slippage_points`."""
    dumped = TradingConfig().model_dump(mode="json")
    del dumped["slippage_points"]
    dumped["slippage"] = 10
    spec = InstanceSpec.model_validate({"instance_id": "a", "login": 1, "config": dumped})
    assert (spec.config.slippage, spec.config.slippage_points) == (None, 10)
    design = InstanceSpec.model_validate(
        {"instance_id": "a", "login": 1, "config": {"slippage": 1.5, "lot_size": 0.1}}
    )
    assert design.config.slippage == 1.5
