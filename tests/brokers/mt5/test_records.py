"""MT5 record types: field names and order as the MetaTrader5 package returns them."""

from __future__ import annotations

import json
from pathlib import Path

from brokers.mt5.records import (
    OrderSendResult,
    SymbolInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)

DATA = Path(__file__).parents[2] / "data" / "mt5"


def test_symbol_info_has_the_96_fields_of_real_dumps_in_order() -> None:
    dumps = json.loads((DATA / "mt5_symbol_info_dumps.json").read_text())["dumps"]
    for dump in dumps:
        assert SymbolInfo._fields == tuple(dump["info"])
        assert SymbolInfo(**dump["info"]).name == dump["symbol"]
    assert len(SymbolInfo._fields) == 96


def test_order_send_result_and_request_read_a_real_result() -> None:
    lines = (DATA / "mt5_order_results_examples.jsonl").read_text().splitlines()
    parsed = json.loads(lines[0])["parsed"]  # a real USDJPY close, retcode 10009
    fields = {k: v for k, v in parsed.items() if k != "call"}
    assert tuple(fields) == OrderSendResult._fields
    assert tuple(fields["request"]) == TradeRequest._fields
    result = OrderSendResult(**{**fields, "request": TradeRequest(**fields["request"])})
    assert (result.retcode, result.request.position) == (10009, 557416535)


def test_position_order_and_deal_fields_follow_real_printouts() -> None:
    # TradePosition(ticket=..., time=..., ...) as printed by positions_get() (MetaQuotes docs)
    assert TradePosition._fields == (
        "ticket", "time", "time_msc", "time_update", "time_update_msc", "type", "magic",
        "identifier", "reason", "volume", "price_open", "sl", "tp", "price_current", "swap",
        "profit", "symbol", "comment", "external_id",
    )  # fmt: skip
    assert TradeOrder._fields[13:21] == (
        "reason", "volume_initial", "volume_current", "price_open", "sl", "tp",
        "price_current", "price_stoplimit",
    )  # fmt: skip
    assert TradeDeal._fields[:9] == (
        "ticket", "order", "time", "time_msc", "type", "entry", "magic", "position_id", "reason",
    )  # fmt: skip
