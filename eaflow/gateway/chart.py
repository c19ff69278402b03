"""The chart page at `/` and the JSON it loads: instances, symbols, state, results, trades,
markers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse
from pydantic import ValidationError

from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.entries import Shown, decoded
from eaflow.gateway.markers import marker, position_types
from eaflow.gateway.symbols import ChartSymbols, chart_symbols
from model import AccountState, Result
from model.trade import TradeState

STATIC = Path(__file__).parent / "static"
router = APIRouter(tags=["chart"])
Gw = Annotated[Gateway, Depends(gateway)]


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/api/instances", summary="Instances and their trading state")
async def instances(gw: Gw) -> list[dict[str, Any]]:
    specs = await gw.registry.all()
    return [
        {
            "instance": i,
            "login": s.login,
            "broker": s.broker,
            "trading_state": s.config.trading_state.value,
        }
        for i, s in sorted(specs.items())
    ]


@router.get("/api/symbols", summary="Symbols the chart can show")
async def symbols(found: Annotated[ChartSymbols, Depends(chart_symbols)]) -> list[str]:
    return sorted(await found.known())


async def state_of(gw: Gateway, instance: str) -> AccountState | None:
    raw = await gw.redis.get(gw.keys.state(instance))
    if raw is None:
        return None
    try:
        return AccountState.model_validate_json(raw)
    except ValidationError:
        return None


@router.get("/api/state/{instance}", summary="Latest account snapshot of an instance")
async def state(instance: str, gw: Gw) -> dict[str, Any]:
    found = await state_of(gw, instance)
    if found is None:
        raise HTTPException(404, f"instance: no state for '{instance[:64]}' yet")
    return found.model_dump(mode="json")


async def recent_results(gw: Gateway, instance: str, symbol: str, limit: int) -> list[Result]:
    """Newest first, from the last `results_shown` entries of `rtrs`."""
    return await _recent(gw, gw.keys.rtrs, Result, instance, symbol, limit)


@router.get("/api/results", summary="Last results, newest first")
async def results(
    gw: Gw,
    instance: str = "",
    symbol: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    return [r.model_dump(mode="json") for r in await recent_results(gw, instance, symbol, limit)]


async def recent_trades(gw: Gateway, instance: str, symbol: str, limit: int) -> list[TradeState]:
    """Newest first, from the last `results_shown` entries of `trades`."""
    return await _recent(gw, gw.keys.trades, TradeState, instance, symbol, limit)


async def _recent(
    gw: Gateway, key: str, model: type[Shown], instance: str, symbol: str, limit: int
) -> list[Shown]:
    """The newest `limit` messages of stream `key` (of its last `results_shown` entries)
    for `instance` and `symbol` ("" for any); an entry that does not decode is passed over."""
    entries: Any = await gw.redis.xrevrange(key, count=gw.config.results_shown)
    found: list[Shown] = []
    for message in decoded(entries, model):
        if instance not in ("", message.instance) or symbol not in ("", message.symbol):
            continue
        found.append(message)
        if len(found) >= limit:
            break
    return found


@router.get("/api/trades", summary="Last trade states (opened, modified, closed), newest first")
async def trades(
    gw: Gw,
    instance: str = "",
    symbol: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    return [t.model_dump(mode="json") for t in await recent_trades(gw, instance, symbol, limit)]


@router.get("/api/markers", summary="Chart markers of fills and SL/TP moves, oldest first")
async def markers(gw: Gw, symbol: str, instance: str = "") -> list[dict[str, Any]]:
    types = position_types(await state_of(gw, instance)) if instance else {}
    found = await recent_results(gw, instance, symbol, gw.config.results_shown)
    made = [m for r in reversed(found) if (m := marker(r, types)) is not None]
    return sorted(made, key=lambda m: int(m["time"]))
