"""What an alert adds to its orders, resolved per instance: pending distances from the
instance's quote, expiry against the symbol's expiration modes, take-profit ladders,
spread and account filters, `newsltp…` distances, strategy tags."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from brokers.mt5.records import SymbolInfo
from brokers.sim.symbols import default_symbols
from model import InstanceSpec, Order, OrderTime, Signal, TradingState, TrailingStop
from processors.router.plan import Market, plan_orders
from processors.rules import Refusal
from tests.stubs import EURUSD_TICK

SPEC = InstanceSpec(instance_id="acct-1", login=1, magic=77)
NOW = 1_800_000_000.0
ACCOUNT = {
    "balance": Decimal("1000"),
    "equity": Decimal("900"),
    "margin_free": Decimal("850"),
    "margin_level": Decimal("0"),
}


def market(info: SymbolInfo, account: dict[str, Decimal] | None = None) -> Market:
    return Market(
        info, EURUSD_TICK, Decimal("10000"), TradingState.ACTIVE, account=account or ACCOUNT
    )


def orders(info: SymbolInfo, account: dict[str, Decimal] | None = None, **body: Any) -> list[Order]:
    signal = Signal.model_validate({"symbol": info.name, "created_at": NOW - 1, **body})
    return plan_orders(signal, SPEC, market(info, account), NOW)


def one(info: SymbolInfo, **body: Any) -> Order:
    [order] = orders(info, **body)
    return order


def refusal(info: SymbolInfo, account: dict[str, Decimal] | None = None, **body: Any) -> Refusal:
    with pytest.raises(Refusal) as caught:
        orders(info, account, **body)
    return caught.value


def symbol(name: str) -> SymbolInfo:
    info = default_symbols().get(name)
    assert info is not None
    return info._replace(trade_tick_value=1.0)


EURUSD = symbol("EURUSD")


def test_a_pending_price_as_a_distance_rests_on_its_side_of_the_quote() -> None:
    """bid 1.38742, ask 1.38755: 20 pips is 0.00200 from the ask (buys) or the bid (sells)."""
    base = {"price": 20, "price_unit": "pips", "volume": "0.1"}
    assert one(EURUSD, order_type="buy_limit", **base).price == Decimal("1.38555")
    assert one(EURUSD, order_type="buy_stop", **base).price == Decimal("1.38955")
    assert one(EURUSD, order_type="sell_limit", **base).price == Decimal("1.38942")
    assert one(EURUSD, order_type="sell_stop", **base).price == Decimal("1.38542")
    points = one(EURUSD, order_type="buy_limit", price=150, price_unit="points", volume="0.1")
    assert points.price == Decimal("1.38605")
    percent = one(EURUSD, order_type="sell_limit", price="0.5", price_unit="percent", volume="0.1")
    assert percent.price == Decimal("1.39436")  # bid × 1.005 = 1.3943571 on the tick size
    with_stops = one(EURUSD, order_type="buy_limit", **base, stop_loss=10, stops_unit="pips")
    assert with_stops.stop_loss == Decimal("1.38455")  # 10 pips below the pending price


def test_expiry_reaches_the_order_or_is_refused_by_the_symbols_modes() -> None:
    base = {"order_type": "buy_limit", "price": "1.38", "volume": "0.1"}
    until = one(EURUSD, **base, expiration=NOW + 3600.4)
    assert (until.type_time, until.expiration) == (OrderTime.SPECIFIED, int(NOW) + 3601)
    day = one(EURUSD, **base, type_time="day")
    assert (day.type_time, day.expiration) == (OrderTime.DAY, 0)
    assert one(EURUSD, **base).type_time is None  # GTC, as before
    eurjpy = symbol("EURJPY")  # expiration_mode 7: no specified_day (quoted here as EURUSD)
    refused = refusal(
        eurjpy, order_type="buy_limit", price="1.38", volume="0.1", type_time="specified_day",
        expiration=NOW + 86400,
    )  # fmt: skip
    assert refused.field == "type_time"
    assert refused.rule == (
        "EURJPY allows only gtc, day, specified order times (expiration_mode 7), not specified_day"
    )
    late = Signal.model_validate({**base, "symbol": "EURUSD", "expiration": NOW + 5})
    with pytest.raises(Refusal) as caught:  # it expired on the way to the router
        plan_orders(late, SPEC, market(EURUSD), NOW + 10)
    assert caught.value.field == "expiration"


def test_a_take_profit_ladder_splits_the_volume_into_one_order_per_level() -> None:
    legs = [{"take_profit": 10, "share": 50}, {"take_profit": 20, "share": 30},
            {"take_profit": 40, "share": 20}]  # fmt: skip
    placed = orders(
        EURUSD, order_id="L-1", order_type="buy", volume="0.13", stop_loss=15,
        take_profits=legs, stops_unit="pips",
    )  # fmt: skip
    assert [o.order_id for o in placed] == ["L-1.tp1", "L-1.tp2", "L-1.tp3"]
    assert [o.volume for o in placed] == [Decimal("0.06"), Decimal("0.03"), Decimal("0.04")]
    assert [o.take_profit for o in placed] == [
        Decimal("1.38855"), Decimal("1.38955"), Decimal("1.39155")
    ]  # fmt: skip
    assert {o.stop_loss for o in placed} == {Decimal("1.38605")}
    equal = orders(
        EURUSD, order_type="sell", volume="0.10", take_profits=[{"take_profit": "1.38"},
        {"take_profit": "1.37"}, {"take_profit": "1.36"}],
    )  # fmt: skip
    assert [o.volume for o in equal] == [Decimal("0.03"), Decimal("0.03"), Decimal("0.04")]
    refused = refusal(EURUSD, order_type="buy", volume="0.02", take_profits=legs,
                      stops_unit="pips")  # fmt: skip
    assert (refused.field, refused.rule) == (
        "take_profits",
        "level 2's 30% of 0.02 lots is 0.00, below volume_min 0.01 of EURUSD",
    )


def test_alert_trailing_is_converted_to_the_symbols_points() -> None:
    pips = one(EURUSD, order_type="buy", volume="0.1",
               trailing={"distance": 15, "step": 2, "activation": 20, "breakeven_trigger": 10,
                         "breakeven_offset": 1})  # fmt: skip
    assert pips.trailing == TrailingStop(
        enabled=True, distance=150, step=20, activation=200, breakeven_trigger=100,
        breakeven_offset=10,
    )  # fmt: skip
    atr = one(EURUSD, order_type="buy", volume="0.1",
              trailing={"distance": "0.00123", "activation": "0.002", "unit": "price"})  # fmt: skip
    assert atr.trailing is not None
    assert (atr.trailing.distance, atr.trailing.activation) == (123, 200)
    assert one(EURUSD, order_type="buy", volume="0.1").trailing is None


def test_spread_and_account_filters_refuse_by_name() -> None:
    wide = refusal(EURUSD, order_type="buy", volume="0.1", max_spread_pips="1.2")
    assert (wide.field, wide.rule) == (
        "max_spread_pips", "the spread of EURUSD is 1.3 pips, above 1.2"
    )  # fmt: skip
    assert one(EURUSD, order_type="buy", volume="0.1", max_spread_pips="1.3")
    poor = refusal(EURUSD, order_type="buy", volume="0.1", min_balance=1000)
    assert (poor.field, poor.rule) == ("min_balance", "the balance 1000.00 is not above 1000")
    assert one(EURUSD, order_type="buy", volume="0.1", min_balance=999)
    low = refusal(EURUSD, order_type="buy", volume="0.1", min_equity=950)
    assert low.field == "min_equity"
    assert refusal(EURUSD, order_type="buy", volume="0.1", min_margin_free=900).field == (
        "min_margin_free"
    )
    # no position open (margin level 0) passes, as PineConnector says
    assert one(EURUSD, order_type="buy", volume="0.1", min_margin_level=200)
    busy = {**ACCOUNT, "margin_level": Decimal("150")}
    assert refusal(EURUSD, busy, order_type="buy", volume="0.1", min_margin_level=200).field == (
        "min_margin_level"
    )


def test_newsltp_distances_count_from_the_closing_side_of_the_quote() -> None:
    """PineConnector: pips from the current market price for newsltp… commands."""
    longs = one(EURUSD, action="sltp", side="long", stop_loss=20, take_profit=30,
                stops_unit="pips")  # fmt: skip
    assert (longs.stop_loss, longs.take_profit) == (Decimal("1.38542"), Decimal("1.39042"))
    shorts = one(EURUSD, action="sltp", side="short", stop_loss=20, stops_unit="pips")
    assert (shorts.stop_loss, shorts.take_profit) == (Decimal("1.38955"), None)
    both = refusal(EURUSD, action="sltp", stop_loss=20, stops_unit="pips")
    assert both.field == "side"
    prices = one(EURUSD, action="sltp", side="long", stop_loss="1.38", stops_unit="price")
    assert prices.stop_loss == Decimal("1.38")
    removed = one(EURUSD, action="sltp", side="long", stop_loss=0, take_profit=0, stops_unit="pips")
    assert (removed.stop_loss, removed.take_profit) == (Decimal(0), Decimal(0))  # 0 removes


def test_the_strategy_tag_is_the_strategy_else_the_comment() -> None:
    tagged = one(EURUSD, order_type="buy", volume="0.1", strategy="A", comment="first leg")
    assert (tagged.strategy, tagged.comment) == ("A", "first leg")
    commented = one(EURUSD, order_type="buy", volume="0.1", comment="London breakout v2 long")
    assert commented.strategy == "London breakout v2"
    exit_a = one(EURUSD, action="close", side="long", strategy="A")
    assert exit_a.strategy == "A"
    assert one(EURUSD, action="close", side="long").strategy == ""
    half = one(EURUSD, action="close", side="long", close_percent=50)
    assert half.close_percent == Decimal("50")


def test_slippage_in_pips_becomes_deviation_points_per_symbol() -> None:
    spec = SPEC.model_copy(
        update={"config": SPEC.config.model_copy(update={"slippage": Decimal("1.5")})}
    )
    signal = Signal.model_validate({"symbol": "EURUSD", "order_type": "buy", "volume": "0.1"})
    [order] = plan_orders(signal, spec, market(EURUSD), NOW)
    assert order.deviation == 15
