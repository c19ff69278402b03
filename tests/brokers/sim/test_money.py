"""Money as MT5 computes it, against figures worked by hand from the MQL5 reference's formulas:
order_calc_margin / order_calc_profit per calculation mode and account currency, hedged
margin, MT5's rounding, exact netting averages and fills on the symbol's digits.

Quotes are chosen round so every figure can be checked with pen and paper; each expected value
is written with its working. Accounts are 1:100.
"""

from __future__ import annotations

import pytest
import redis

from brokers.mt5 import constants as mt5
from brokers.sim.margin import money
from brokers.sim.server import SimServer
from brokers.sim.symbols import SymbolTable, default_symbols
from brokers.sim.terminal import SimTerminal
from model.keys import Keys
from model.tick import Tick, encode_tick
from tests.brokers.sim.conftest import PREFIX

USD_LOGIN, EUR_LOGIN = 7_300_001, 7_300_002
NOW = 1_704_880_800.0  # Wednesday 2024-01-10 10:00 UTC

# bid, ask
QUOTES = {
    "EURUSD": (1.10000, 1.10010),
    "USDJPY": (150.000, 150.020),
    "EURJPY": (165.000, 165.030),
    "EURCAD": (1.50000, 1.50030),
    "XAUUSD": (2000.000, 2000.500),
}


def publish(client: redis.Redis, symbol: str, bid: float, ask: float, at: float = NOW) -> Tick:
    tick = Tick(int(at), bid, ask, time_msc=int(at * 1000), flags=6)
    client.xadd(Keys(PREFIX).ticks(symbol), {"d": encode_tick(tick)})
    return tick


def terminal(
    client: redis.Redis, login: int, currency: str, balance: float = 100_000, **opened: object
) -> SimTerminal:
    SimServer(client, PREFIX, clock=lambda: NOW).open_account(
        login,
        balance=balance,
        currency=currency,
        leverage=100,
        **opened,  # type: ignore[arg-type]
    )
    mt5_ = SimTerminal(client, PREFIX, clock=lambda: NOW)
    assert mt5_.initialize(login=login)
    return mt5_


@pytest.fixture
def quoted(redis_client: redis.Redis) -> redis.Redis:
    for symbol, (bid, ask) in QUOTES.items():
        publish(redis_client, symbol, bid, ask)
    return redis_client


@pytest.fixture
def usd(quoted: redis.Redis) -> SimTerminal:
    return terminal(quoted, USD_LOGIN, "USD")


@pytest.fixture
def eur(quoted: redis.Redis) -> SimTerminal:
    return terminal(quoted, EUR_LOGIN, "EUR")


BUY, SELL = mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL

# --- order_calc_margin / order_calc_profit ----------------------------------------------------
# Forex (EURUSD, USDJPY, EURCAD): margin = lots × contract / leverage, in the margin (base)
# currency; CFD Leverage (XAUUSD): lots × contract × price / leverage, in USD. Profit =
# (close - open) × contract × lots in the profit currency, negated for a sell. Conversion goes
# through the traded symbol at the given price, else at the quote's rate that makes a charge
# larger (margin, losses) or a gain smaller.
MARGINS = [
    # USD account
    ("USD", BUY, "EURUSD", 1.0, 1.10010, 1100.10),  # 1000 EUR × 1.10010 (the price given)
    ("USD", SELL, "EURUSD", 1.0, 1.10000, 1100.00),  # 1000 EUR × 1.10000
    ("USD", BUY, "USDJPY", 1.0, 150.020, 1000.00),  # 1000 USD
    ("USD", BUY, "EURCAD", 1.0, 1.50030, 1100.10),  # 1000 EUR × EURUSD ask 1.10010
    ("USD", BUY, "XAUUSD", 1.0, 2000.500, 2000.50),  # 1 × 100 × 2000.5 / 100
    ("USD", SELL, "XAUUSD", 0.5, 2000.000, 1000.00),  # 0.5 × 100 × 2000 / 100
    # EUR account
    ("EUR", BUY, "EURUSD", 1.0, 1.10010, 1000.00),  # 1000 EUR
    ("EUR", BUY, "USDJPY", 1.0, 150.020, 909.09),  # 1000 USD / EURUSD bid 1.10000 = 909.0909
    ("EUR", BUY, "EURCAD", 0.1, 1.50030, 100.00),  # 100 EUR
    ("EUR", BUY, "XAUUSD", 1.0, 2000.500, 1818.64),  # 2000.5 USD / 1.10000 = 1818.6364
]
PROFITS = [
    # USD account
    ("USD", BUY, "EURUSD", 1.0, 1.10010, 1.10510, 500.00),  # 0.005 × 100,000 USD
    ("USD", BUY, "USDJPY", 1.0, 150.020, 151.020, 662.16),  # 100,000 JPY / 151.020 = 662.1640
    ("USD", SELL, "USDJPY", 1.0, 150.000, 151.000, -662.25),  # -100,000 JPY / 151.000 = -662.2517
    # -1,000 CAD / 1.49030 (EURCAD at the close) = -671.0058 EUR × EURUSD ask 1.10010 = -738.1735
    ("USD", BUY, "EURCAD", 1.0, 1.50030, 1.49030, -738.17),
    ("USD", SELL, "XAUUSD", 0.5, 2000.000, 1990.000, 500.00),  # 10 × 100 × 0.5 USD
    # EUR account
    ("EUR", BUY, "EURUSD", 1.0, 1.10010, 1.10510, 452.45),  # 500 USD / 1.10510 = 452.4477
    ("EUR", BUY, "USDJPY", 1.0, 150.020, 151.020, 605.95),  # 100,000 JPY / EURJPY ask 165.030
    ("EUR", BUY, "EURCAD", 1.0, 1.50030, 1.49030, -671.01),  # -1,000 CAD / 1.49030
    ("EUR", SELL, "XAUUSD", 0.5, 2000.000, 1990.000, 454.50),  # 500 USD / EURUSD ask 1.10010
]


@pytest.mark.parametrize(("currency", "action", "symbol", "lots", "price", "expected"), MARGINS)
def test_order_calc_margin(
    usd: SimTerminal,
    eur: SimTerminal,
    currency: str,
    action: int,
    symbol: str,
    lots: float,
    price: float,
    expected: float,
) -> None:
    terminal_ = usd if currency == "USD" else eur
    assert terminal_.order_calc_margin(action, symbol, lots, price) == expected


@pytest.mark.parametrize(
    ("currency", "action", "symbol", "lots", "open_", "close", "expected"), PROFITS
)
def test_order_calc_profit(
    usd: SimTerminal,
    eur: SimTerminal,
    currency: str,
    action: int,
    symbol: str,
    lots: float,
    open_: float,
    close: float,
    expected: float,
) -> None:
    terminal_ = usd if currency == "USD" else eur
    assert terminal_.order_calc_profit(action, symbol, lots, open_, close) == expected


def test_the_other_calculation_modes_by_their_formulas(quoted: redis.Redis) -> None:
    """The modes no shipped symbol uses, on an edited EURUSD (USD account): Forex No
    Leverage lots × contract; CFD lots × contract × price; Futures lots × margin_initial,
    profit (close - open) × lots × tick_value / tick_size."""
    base = default_symbols().get("EURUSD")
    assert base is not None
    table = SymbolTable(
        [
            base._replace(name="EURUSD", trade_calc_mode=mt5.SYMBOL_CALC_MODE_FOREX_NO_LEVERAGE),
            *(s for s in default_symbols() if s.name != "EURUSD"),
        ]
    )
    SimServer(quoted, PREFIX, clock=lambda: NOW).open_account(USD_LOGIN, currency="USD")
    no_leverage = SimTerminal(quoted, PREFIX, symbols=table, clock=lambda: NOW)
    assert no_leverage.initialize(login=USD_LOGIN)
    # 0.1 × 100,000 = 10,000 EUR × 1.10010 = 11,001.00 USD
    assert no_leverage.order_calc_margin(BUY, "EURUSD", 0.1, 1.10010) == 11_001.00
    for mode, margin, profit in (
        # CFD: 0.1 × 100,000 × 1.10010 = 11,001 EUR × 1.10010 = 12,102.20 USD (12,102.2001)
        (mt5.SYMBOL_CALC_MODE_CFD, 12_102.20, 500.00),
        # Futures, margin_initial 2,500 and tick value 2.5 per 0.00001: 0.1 × 2,500 = 250 EUR
        # × 1.10010 = 275.03 (275.025, half up); profit 0.005 × 0.1 × 2.5 / 0.00001 = 125 USD
        (mt5.SYMBOL_CALC_MODE_FUTURES, 275.03, 125.00),
    ):
        spec = base._replace(trade_calc_mode=mode, margin_initial=2_500.0, trade_tick_value=2.5)
        other = SymbolTable([spec, *(s for s in default_symbols() if s.name != "EURUSD")])
        mt5_ = SimTerminal(quoted, PREFIX, symbols=other, clock=lambda: NOW)
        assert mt5_.initialize(login=USD_LOGIN)
        assert mt5_.order_calc_margin(BUY, "EURUSD", 0.1, 1.10010) == margin, mode
        lots = 0.1 if mode == mt5.SYMBOL_CALC_MODE_FUTURES else 1.0
        assert mt5_.order_calc_profit(BUY, "EURUSD", lots, 1.10010, 1.10510) == profit, mode


def test_order_calc_errors(usd: SimTerminal) -> None:
    assert usd.order_calc_margin(mt5.ORDER_TYPE_BUY_LIMIT, "EURUSD", 1.0, 1.1) is None
    assert usd.last_error()[0] == -2
    assert usd.order_calc_profit(BUY, "BTCUSD", 1.0, 1.0, 2.0) is None
    assert usd.last_error()[0] == -4


# --- hedged margin ------------------------------------------------------------------------------


def deal(symbol: str, side: int, lots: float) -> dict[str, object]:
    filling = mt5.ORDER_FILLING_IOC if symbol == "USDJPY" else mt5.ORDER_FILLING_FOK
    return {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": symbol,
        "volume": lots,
        "type": side,
        "type_filling": filling,
    }


def margin_of(mt5_: SimTerminal) -> float:
    info = mt5_.account_info()
    assert info is not None
    return info.margin


def test_a_hedged_pair_is_charged_as_mt5_charges_it(usd: SimTerminal) -> None:
    """EURUSD margin_hedged 100,000 = the contract size: a covered lot (a buy against a sell)
    is charged as one lot at the average of both sides' prices; the uncovered rest normally."""
    assert usd.order_send(deal("EURUSD", BUY, 1.0)) is not None
    assert margin_of(usd) == 1100.10  # 1000 EUR × ask 1.10010
    assert usd.order_send(deal("EURUSD", SELL, 1.0)) is not None
    # covered 1 lot: 1000 EUR × (1.10010 + 1.10000) / 2 = 1100.05 (both legs: 2200.10)
    assert margin_of(usd) == 1100.05
    assert usd.order_send(deal("EURUSD", BUY, 0.5)) is not None
    # uncovered 0.5 buy: 500 × 1.10010 = 550.05; covered 1: 1100.05 → 1650.10
    assert margin_of(usd) == 1650.10


def test_a_symbol_without_hedged_margin_charges_a_covered_pair_nothing(usd: SimTerminal) -> None:
    """USDJPY: margin_initial 100,000 (so margin_hedged is money per covered lot) and
    margin_hedged 0: a buy and a sell of 1 lot cost nothing."""
    assert usd.order_send(deal("USDJPY", BUY, 1.0)) is not None
    assert margin_of(usd) == 1000.00
    assert usd.order_send(deal("USDJPY", SELL, 1.0)) is not None
    assert margin_of(usd) == 0.00


def test_covering_a_position_needs_no_free_margin(quoted: redis.Redis) -> None:
    """1,200 USD: a 1-lot EURUSD buy holds 1,100.10 and leaves 98.90 free (less the spread
    lost, 10.00: equity 1,190.00, free 89.90). The opposite sell lowers the margin to 1,100.05,
    so MT5 accepts it; charging both legs (2,200.10) would have refused it (10019)."""
    small = terminal(quoted, USD_LOGIN + 9, "USD", balance=1_200)
    assert small.order_send(deal("EURUSD", BUY, 1.0)) is not None
    info = small.account_info()
    assert info is not None and (info.equity, info.margin, info.margin_free) == (
        1190.00,
        1100.10,
        89.90,
    )
    covered = small.order_send(deal("EURUSD", SELL, 1.0))
    assert covered is not None and covered.retcode == mt5.TRADE_RETCODE_DONE
    refused = small.order_send(deal("EURUSD", BUY, 0.1))  # uncovered 0.1 more: 110.01 > free
    assert refused is not None and refused.retcode == mt5.TRADE_RETCODE_NO_MONEY


def test_largest_leg_hedging(quoted: redis.Redis) -> None:
    """margin_hedged_use_leg: the symbol costs the larger side's margin."""
    base = default_symbols().get("EURUSD")
    assert base is not None
    table = SymbolTable(
        [base._replace(margin_hedged_use_leg=True), *(s for s in default_symbols() if s != base)]
    )
    SimServer(quoted, PREFIX, clock=lambda: NOW).open_account(USD_LOGIN, currency="USD")
    leg = SimTerminal(quoted, PREFIX, symbols=table, clock=lambda: NOW)
    assert leg.initialize(login=USD_LOGIN)
    assert leg.order_send(deal("EURUSD", BUY, 1.0)) is not None
    assert leg.order_send(deal("EURUSD", SELL, 0.4)) is not None
    assert margin_of(leg) == 1100.10  # max(1000 × 1.10010, 400 × 1.10000 = 440.00)


# --- rounding, netting, fills ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        (0.125, 0.13),  # an exact binary tie: Python's round() gives 0.12
        (-0.125, -0.13),
        (2.675, 2.68),  # 2.67499999999999982236431605997495353221893310546875 in binary
        (1387.485, 1387.49),
        (0.00499999999992724, 0.01),  # a 0.005 move computed in floats
        (12.344999, 12.34),
        (-0.004, 0.0),
    ],
)
def test_money_rounds_half_away_from_zero(amount: float, cents: float) -> None:
    assert money(amount) == cents


def test_a_tie_in_profit_rounds_as_mt5(quoted: redis.Redis, usd: SimTerminal) -> None:
    """0.01 lot of XAUUSD bought at 2000.500 and closed at 2000.625: 0.125 × 100 × 0.01 =
    0.125 USD, booked as 0.13 (half away from zero), not 0.12."""
    bought = usd.order_send(deal("XAUUSD", BUY, 0.01))
    assert bought is not None and bought.price == 2000.5
    publish(quoted, "XAUUSD", 2000.625, 2001.000, NOW + 1)
    closed = usd.order_send({**deal("XAUUSD", SELL, 0.01), "position": bought.order})
    assert closed is not None and closed.retcode == mt5.TRADE_RETCODE_DONE
    (exit_,) = usd.history_deals_get(ticket=closed.order) or ()
    assert exit_.profit == 0.13


def test_fills_are_on_the_symbols_digits(quoted: redis.Redis, usd: SimTerminal) -> None:
    """A feed's off-grid quote (6 decimals on a 5-digit symbol) fills at the nearest price
    on the grid."""
    publish(quoted, "EURUSD", 1.100004, 1.100126, NOW + 1)
    bought = usd.order_send(deal("EURUSD", BUY, 0.1))
    sold = usd.order_send(deal("EURUSD", SELL, 0.1))
    assert bought is not None and sold is not None
    assert (bought.price, sold.price) == (1.10013, 1.1)
