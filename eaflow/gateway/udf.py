"""TradingView's UDF datafeed: `/udf/config|symbols|search|history|time` over our ticks.

Point the Charting Library's `UDFCompatibleDatafeed` at `http://host:port/udf`. Shapes
follow the UDF spec: `history` answers `{"s": "ok", "t", "o", "h", "l", "c", "v"}`,
`{"s": "no_data", "nextTime"}` or `{"s": "error", "errmsg"}`; `time` is plain seconds.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse

from brokers.mt5.records import SymbolInfo
from eaflow.gateway.bars import RESOLUTIONS, Bar, resolution_seconds
from eaflow.gateway.symbols import ChartSymbols, chart_symbols

router = APIRouter(prefix="/udf", tags=["udf"])
EXCHANGE = "EAFLOW"
Symbols = Annotated[ChartSymbols, Depends(chart_symbols)]


def udf_name(symbol: str) -> str:
    """`EAFLOW:EURUSD` or `EURUSD` → `EURUSD`."""
    exchange, colon, rest = symbol.partition(":")
    return rest if colon and exchange.upper() == EXCHANGE else symbol


def symbol_info(name: str, info: SymbolInfo | None, digits: int) -> dict[str, Any]:
    if info is not None:
        digits = info.digits
    point = 10.0**-digits
    tick_size = info.trade_tick_size if info is not None and info.trade_tick_size else point
    return {
        "name": name,
        "ticker": name,
        "full_name": f"{EXCHANGE}:{name}",
        "description": (info.description if info is not None and info.description else name),
        "type": "forex" if info is None or info.trade_calc_mode == 0 else "cfd",
        "session": "24x7",
        "exchange": EXCHANGE,
        "listed_exchange": EXCHANGE,
        "timezone": "Etc/UTC",
        "format": "price",
        "pricescale": 10**digits,
        "minmov": max(1, round(tick_size / point)),
        "has_intraday": True,
        "has_seconds": True,
        "seconds_multipliers": ["1", "5", "15"],
        "intraday_multipliers": ["1", "5", "15", "30", "60", "240"],
        "has_daily": True,
        "supported_resolutions": list(RESOLUTIONS),
        "volume_precision": 0,
        "data_status": "streaming",
    }


@router.get("/config", summary="Datafeed configuration")
async def config() -> dict[str, Any]:
    return {
        "supported_resolutions": list(RESOLUTIONS),
        "supports_search": True,
        "supports_group_request": False,
        "supports_marks": False,
        "supports_timescale_marks": False,
        "supports_time": True,
        "exchanges": [{"value": EXCHANGE, "name": EXCHANGE, "desc": "eaflow tick streams"}],
        "symbols_types": [
            {"name": "All types", "value": ""},
            {"name": "Forex", "value": "forex"},
            {"name": "CFD", "value": "cfd"},
        ],
    }


@router.get("/symbols", summary="Resolve one symbol")
async def symbols(symbol: str, found: Symbols) -> dict[str, Any]:
    name = udf_name(symbol)
    known = await found.known()
    if name not in known:
        return {"s": "error", "errmsg": "unknown_symbol"}
    return symbol_info(name, known[name], await found.digits(name))


@router.get("/search", summary="Search symbols")
async def search(
    found: Symbols,
    query: str = "",
    type: str = "",
    exchange: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 30,
) -> list[dict[str, Any]]:
    wanted = query.upper()
    result = []
    for name, info in sorted((await found.known()).items()):
        entry = symbol_info(name, info, 5)
        matches = wanted in name.upper() or wanted in entry["description"].upper()
        if matches and type in ("", entry["type"]) and exchange.upper() in ("", EXCHANGE):
            result.append(
                {
                    "symbol": name,
                    "full_name": entry["full_name"],
                    "ticker": name,
                    "description": entry["description"],
                    "exchange": EXCHANGE,
                    "type": entry["type"],
                }
            )
    return result[:limit]


def history_reply(bars: list[Bar], start: int, end: int, countback: int | None) -> dict[str, Any]:
    before_end = [b for b in bars if b.time < end]
    chosen = before_end[-countback:] if countback else [b for b in before_end if b.time >= start]
    if not chosen:
        earlier = [b.time for b in bars if b.time < start]
        return {"s": "no_data", "nextTime": earlier[-1]} if earlier else {"s": "no_data"}
    return {
        "s": "ok",
        "t": [b.time for b in chosen],
        "o": [b.open for b in chosen],
        "h": [b.high for b in chosen],
        "l": [b.low for b in chosen],
        "c": [b.close for b in chosen],
        "v": [b.volume for b in chosen],
    }


@router.get("/history", summary="Bars of a symbol")
async def history(
    symbol: str,
    resolution: str,
    found: Symbols,
    start: Annotated[int, Query(alias="from")] = 0,
    to: Annotated[int | None, Query()] = None,
    countback: Annotated[int | None, Query(ge=1, le=100_000)] = None,
) -> dict[str, Any]:
    try:
        seconds = resolution_seconds(resolution)
    except ValueError as error:
        return {"s": "error", "errmsg": str(error)}
    bars = await found.bars.bars(udf_name(symbol), seconds)
    return history_reply(bars, start, to if to is not None else int(time.time()) + 1, countback)


@router.get("/time", response_class=PlainTextResponse, summary="Server time (unix seconds)")
async def server_time() -> str:
    return str(int(time.time()))
