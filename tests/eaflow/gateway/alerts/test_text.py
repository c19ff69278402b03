"""Text bodies: PineConnector-style command lines and KEY=VALUE lines."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from eaflow.gateway.alerts import AlertError, Defaults, read_body, signals
from model import Action, OrderType, Side, SizingMode, StopsUnit

PINE = Defaults()  # pips, risk= in lots: PineConnector's defaults


def read(body: str, defaults: Defaults = PINE) -> list[dict[str, object]]:
    return [s for d in read_body(body.encode()) for s in signals(d, defaults)[0]]


def test_source_command_symbol_and_parameters() -> None:
    [draft] = read_body(b'src-1,Buy,EURUSD,risk=0.5,sl=20,tp=40,comment="a, b",secret=s3cr3t')
    assert draft.get("source") == ("source", "src-1")
    assert draft.get("secret") == ("secret", "s3cr3t")
    [signal] = signals(draft, Defaults())[0]
    assert signal == {
        "action": Action.OPEN,
        "order_type": OrderType.BUY,
        "symbol": "EURUSD",
        "volume": D("0.5"),
        "stop_loss": D(20),
        "take_profit": D(40),
        "stops_unit": StopsUnit.PIPS,
        "comment": "a, b",
    }


def test_the_source_decides_what_risk_and_sl_mean() -> None:
    percent = Defaults(stops_unit=StopsUnit.PRICE, volume_type="risk_percent")
    [signal] = read("buy,EURUSD,risk=1,sl=1.0800", percent)
    assert (signal["sizing"], signal["risk"]) == (SizingMode.RISK_PERCENT, D(1))
    assert signal["stops_unit"] is StopsUnit.PRICE and "volume" not in signal


def test_risk_in_lots_is_never_a_partial_close() -> None:
    assert "volume" not in read("closelong,EURUSD,risk=1")[0]
    assert read("closelong,EURUSD,vol_lots=0.05")[0]["volume"] == D("0.05")


def test_several_lines_are_several_signals() -> None:
    found = read("a,closeshort,EURUSD\na,buy,EURUSD,risk=0.1\n\n")
    assert [(s["action"], s.get("side")) for s in found] == [
        (Action.CLOSE, Side.SHORT),
        (Action.OPEN, None),
    ]


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ("src,buy", "symbol", 422),
        ("src,eaoff,EURUSD", "symbol", 422),
        ("src,buy,EURUSD,risk", "risk", 422),
        ("src,buy,EURUSD,lotsize=10", "lotsize", 422),
        ("src,buy,EURUSD,sl_pips=10,tp_price=1.2", "sl_pips", 422),
        ("a,buy,EURUSD\nb,sellx,EURUSD", "body", 400),
        ("EURUSD Less Than 1.06304", "body", 400),
        ("KEY=1;bad key!=2", "body", 400),
    ],
)
def test_refusals_name_the_field(body: str, field: str, status: int) -> None:
    with pytest.raises(AlertError) as refused:
        read(body)
    assert (refused.value.field, refused.value.status) == (field, status)


def test_errors_of_later_lines_name_the_line() -> None:
    with pytest.raises(AlertError) as refused:
        read("a,buy,EURUSD\na,buy,EURUSD,foo=1")
    assert refused.value.field == "[1].foo"


def test_eaoff_takes_no_symbol_but_may_repeat_itself() -> None:
    assert read("licenseid,eaoff,eaoff") == [{"action": Action.HALT}]


def test_key_value_lines() -> None:
    [signal] = read("SYMBOL=EURUSD;SIGNAL=buy;VOLUME=0.2;SL_PIPS=15")
    assert signal == {
        "action": Action.OPEN,
        "order_type": OrderType.BUY,
        "symbol": "EURUSD",
        "volume": D("0.2"),
        "stop_loss": D(15),
        "stops_unit": StopsUnit.PIPS,
    }
