"""Risk sizing from live quotes, the loss valued as MT5 books it at the stop: a 1 % risk loses
at most 1 % at the stop on every shipped symbol after the rates moved.

The router's symbol specs are published once, with the tick values of that moment (rates A
below). The market then moves (rates B). Sizing with the live quotes must keep the loss at
the stop within the risk; the loss is worked here by hand, per symbol, independently of the
code under test (USD account, 1 lot, a move of D against the position):

| symbol | loss of 1 lot in USD |
|---|---|
| EURUSD, GBPUSD, NZDUSD | D × 100,000 |
| XAUUSD | D × 100 |
| USDJPY | D × 100,000 JPY / the stop price |
| EURJPY | D × 100,000 JPY / USDJPY's bid (a loss converts at the cautious rate) |
| EURCAD | D × 100,000 CAD / EURCAD at the stop × EURUSD's ask |
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import pytest

from brokers.mt5.records import SymbolInfo
from brokers.sim.margin import tick_values
from brokers.sim.symbols import default_symbols, with_quote
from model import Signal, TradingConfig
from model.tick import Tick
from processors.router.sizing import check_caps, live_loss, size
from processors.rules import Refusal

A = {  # when the symbols were published
    "EURUSD": (1.10000, 1.10010),
    "GBPUSD": (1.25000, 1.25020),
    "USDJPY": (150.000, 150.020),
    "EURJPY": (165.000, 165.030),
    "EURCAD": (1.50000, 1.50030),
    "NZDUSD": (0.60000, 0.60015),
    "XAUUSD": (2000.000, 2000.500),
}
B = {  # now
    "EURUSD": (1.20000, 1.20010),
    "GBPUSD": (1.30000, 1.30020),
    "USDJPY": (140.000, 140.020),
    "EURJPY": (168.000, 168.030),
    "EURCAD": (1.40000, 1.40030),
    "NZDUSD": (0.65000, 0.65015),
    "XAUUSD": (2100.000, 2100.500),
}
STOP = {  # distance from entry to stop
    "EURUSD": "0.00200",
    "GBPUSD": "0.00200",
    "NZDUSD": "0.00150",
    "USDJPY": "1.000",
    "EURJPY": "1.000",
    "EURCAD": "0.00300",
    "XAUUSD": "10.000",
}
BALANCE = Decimal("10000")
RISK = Decimal("100")  # 1 % of the balance


def ticks(rates: dict[str, tuple[float, float]]) -> dict[str, Tick]:
    return {s: Tick(0, bid, ask) for s, (bid, ask) in rates.items()}


def published(
    symbol: str, currency: str = "USD", rates: dict[str, tuple[float, float]] | None = None
) -> SymbolInfo:
    """The spec as the router holds it: quoted and valued at the publication's rates."""
    info = default_symbols().get(symbol)
    assert info is not None
    quotes = ticks(rates if rates is not None else A)
    return with_quote(
        info, quotes.get(symbol), tick_values(info, currency, default_symbols(), quotes)
    )


def loss_by_hand(symbol: str, move: Decimal, stop: Decimal) -> Decimal:
    """One lot's loss in USD at rates B, by the table above."""
    if symbol in ("EURUSD", "GBPUSD", "NZDUSD"):
        return move * 100_000
    if symbol == "XAUUSD":
        return move * 100
    if symbol == "USDJPY":
        return move * 100_000 / stop
    if symbol == "EURJPY":
        return move * 100_000 / Decimal("140.000")
    assert symbol == "EURCAD"
    return move * 100_000 / stop * Decimal("1.20010")


def risk_signal(symbol: str, side: str) -> Signal:
    return Signal.model_validate(
        {"symbol": symbol, "order_type": side, "sizing": "risk_money", "risk": str(RISK)}
    )


@pytest.mark.parametrize("side", ["buy", "sell"])
@pytest.mark.parametrize("symbol", list(STOP))
def test_a_1_percent_risk_loses_at_most_1_percent_after_the_rates_moved(
    symbol: str, side: str
) -> None:
    info = published(symbol)
    bid, ask = (Decimal(repr(p)) for p in B[symbol])
    move = Decimal(STOP[symbol])
    entry, stop = (ask, ask - move) if side == "buy" else (bid, bid + move)
    loss = live_loss(info, "USD", default_symbols(), ticks(B))
    lots = size(risk_signal(symbol, side), TradingConfig(), info, entry, stop, BALANCE, loss)
    per_lot = loss_by_hand(symbol, move, stop)
    assert lots * per_lot <= RISK
    assert (lots + Decimal("0.01")) * per_lot > RISK  # and no less: the largest such volume
    check_caps(lots, entry, stop, TradingConfig(max_risk_percent=Decimal(1)), info, BALANCE, loss)


def test_the_frozen_tick_value_risked_more_than_asked() -> None:
    """USDJPY published at 150.020, then 140: the published tick value (100 JPY / 150.020 =
    0.6666 USD a tick) sizes a 1.000 stop (1,000 ticks, 666.58 USD a lot) at 0.15 lot, which
    loses 0.15 × 100,000 / 139.020 = 107.90 USD at the stop. Live: 100,000 / 139.020 =
    719.32 USD a lot, 0.13 lot, 93.51 USD."""
    info = published("USDJPY")
    entry, stop = Decimal("140.020"), Decimal("139.020")
    signal = risk_signal("USDJPY", "buy")
    frozen = size(signal, TradingConfig(), info, entry, stop, BALANCE)
    assert frozen == Decimal("0.15")
    assert frozen * loss_by_hand("USDJPY", Decimal(1), stop) > RISK
    live = size(
        signal,
        TradingConfig(),
        info,
        entry,
        stop,
        BALANCE,
        live_loss(info, "USD", default_symbols(), ticks(B)),
    )
    assert live == Decimal("0.13")


def test_no_quote_at_publication_no_longer_refuses_every_signal() -> None:
    """Published before any quote, a spec's tick value is 0: with live quotes it sizes."""
    info = published("EURCAD", rates={})
    assert info.trade_tick_value == 0
    signal = risk_signal("EURCAD", "buy")
    entry, stop = Decimal("1.40030"), Decimal("1.39730")
    with pytest.raises(Refusal, match="no tick value"):
        size(signal, TradingConfig(), info, entry, stop, BALANCE)
    loss = live_loss(info, "USD", default_symbols(), ticks(B))
    lots = size(signal, TradingConfig(), info, entry, stop, BALANCE, loss)
    # 300 CAD / 1.39730 × 1.20010 = 257.66 USD a lot: 100 / 257.66 = 0.388 → 0.38
    assert lots == Decimal("0.38")
    assert live_loss(info, "USD", default_symbols(), {})(entry, stop) is None  # no quote: None


def test_an_eur_account_converts_at_the_stop_too() -> None:
    """EUR account, EURUSD buy at 1.20010, stop 1.19810: 200 USD a lot / 1.19810 (the stop)
    = 166.93 EUR; 100 EUR risk → 0.59 lot (0.59 × 166.93 = 98.49; 0.60 would be 100.16)."""
    info = published("EURUSD", "EUR")
    entry, stop = Decimal("1.20010"), Decimal("1.19810")
    loss = live_loss(info, "EUR", default_symbols(), ticks(B))
    lots = size(risk_signal("EURUSD", "buy"), TradingConfig(), info, entry, stop, BALANCE, loss)
    assert lots == Decimal("0.59")
    per_lot = Decimal(200) / stop
    assert lots * per_lot <= RISK < (lots + Decimal("0.01")) * per_lot
    assert (RISK / per_lot).quantize(Decimal("0.01"), ROUND_FLOOR) == lots
