"""Contract: every function of the MetaTrader5 package, as MetaQuotes' "Python Integration"
reference documents it, answered by the simulator (and declared once in `MT5Api`).

Expected values are the documentation's (its example outputs, kept in
tests/data/mt5/mt5_api_doc_examples.json) or worked by hand from its rules in the comments;
none is read back from the simulator. The function list is the package's own: the 32
signatures its compiled `_core` documents (MetaTrader5 5.0.6231, win_amd64 wheel) and the
three helpers its `__init__.py` writes in Python.
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from brokers.mt5 import constants
from brokers.mt5.api import MT5Api
from brokers.mt5.linux import LinuxTerminal
from brokers.mt5.records import (
    AccountInfo,
    BookInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from brokers.sim import mt5_module
from brokers.sim.server import SimServer
from brokers.sim.terminal import SimTerminal
from model.keys import Keys
from model.tick import Tick, encode_tick
from tests.conftest import DATA

PREFIX = "ea:"
LOGIN = 7_100_001

# The package's functions, as `_core` documents them (their docstrings' first lines).
PACKAGE_FUNCTIONS = """
initialize([path],[server="SERVER"],[login=LOGIN],[password="PASSWORD"])
shutdown()
login(login,[server="SERVER"],[password="PASSWORD"])
version()
terminal_info()
account_info()
copy_ticks_from(symbol, date_from, count, flags)
copy_ticks_range(symbol, date_from, date_to, flags)
copy_rates_from(symbol, timeframe, date_from, count)
copy_rates_from_pos(symbol, timeframe, start_pos, count)
copy_rates_range(symbol, timeframe, date_from, date_to)
positions_total()
positions_get([symbol="SYMBOL"],[ticket=TICKET],[group="GROUP"])
orders_total()
orders_get([symbol="SYMBOL"],[ticket=TICKET],[group="GROUP"])
history_orders_total(date_from, date_to)
history_orders_get([date_from, date_to, [group="GROUP"]],[position=POSITION],[ticket=TICKET])
history_deals_total(date_from, date_to)
history_deals_get([date_from, date_to, [group="GROUP"]],[position=POSITION],[ticket=TICKET])
order_check(request)
order_send(request)
order_calc_margin(action, symbol, volume, price,)
order_calc_profit(action, symbol, volume, price_open, price_close)
symbol_info(symbol)
symbol_info_tick(symbol)
symbol_select(symbol,[enable])
symbols_total()
symbols_get([group="GROUP"])
market_book_add(symbol)
market_book_release(symbol)
market_book_get(symbol)
last_error()
"""
NAMES = [line.split("(")[0] for line in PACKAGE_FUNCTIONS.strip().splitlines()]
HELPERS = ("Buy", "Sell", "Close")  # MetaTrader5/__init__.py, in Python
RECORDS = {
    "AccountInfo": AccountInfo,
    "BookInfo": BookInfo,
    "OrderCheckResult": OrderCheckResult,
    "OrderSendResult": OrderSendResult,
    "SymbolInfo": SymbolInfo,
    "TerminalInfo": TerminalInfo,
    "Tick": Tick,
    "TradeDeal": TradeDeal,
    "TradeOrder": TradeOrder,
    "TradePosition": TradePosition,
    "TradeRequest": TradeRequest,
}
DOC = json.loads((DATA / "mt5" / "mt5_api_doc_examples.json").read_text())["examples"]
DOC_TICKS = [Tick(**row) for row in DOC[0]["rows"]]  # copy_ticks_from("EURUSD", 2020-01-10, ...)
JAN_10 = datetime(2020, 1, 10, tzinfo=UTC)  # 1578614400


def publish(client: redis.Redis, symbol: str, ticks: list[Tick]) -> None:
    for tick in ticks:
        client.xadd(Keys(PREFIX).ticks(symbol), {"d": encode_tick(tick)})


def tick_at(time_msc: int, bid: float, ask: float, **extra: float) -> Tick:
    return Tick(time_msc // 1000, bid, ask, time_msc=time_msc, flags=6, **extra)  # type: ignore[arg-type]


@pytest.fixture
def now() -> list[float]:
    return [1_578_700_000.0]  # 2020-01-10 23:46:40 UTC, after the ticks below


@pytest.fixture
def mt5(redis_client: redis.Redis, now: list[float]) -> SimTerminal:
    SimServer(redis_client, PREFIX).open_account(LOGIN, balance=10_000, currency="USD")
    terminal = SimTerminal(redis_client, PREFIX, clock=lambda: now[0])
    assert terminal.initialize(login=LOGIN)
    return terminal


@pytest.fixture
def doc_ticks(redis_client: redis.Redis) -> list[Tick]:
    publish(redis_client, "EURUSD", DOC_TICKS)
    return DOC_TICKS


# --- the module as a whole ------------------------------------------------------------------


def test_the_fixture_lists_the_32_functions_of_the_package() -> None:
    assert len(NAMES) == len(set(NAMES)) == 32


def test_every_function_is_declared_once_and_served_by_both_look_alikes() -> None:
    declared = {n for n, f in vars(MT5Api).items() if inspect.isfunction(f) and n[0] != "_"}
    assert declared == set(NAMES)
    for module in (SimTerminal, LinuxTerminal):
        missing = [n for n in (*NAMES, *HELPERS) if not callable(getattr(module, n, None))]
        assert missing == [], module.__name__


def test_the_simulator_imports_as_the_metatrader5_package(redis_url: str) -> None:
    """`import MetaTrader5 as mt5` and `from MetaTrader5 import TradePosition` work, with the
    package's `__version__`/`__author__` and every constant."""
    module = mt5_module(redis_url, PREFIX, login=LOGIN)
    saved = sys.modules.get("MetaTrader5")
    sys.modules["MetaTrader5"] = module  # type: ignore[assignment]
    try:
        import MetaTrader5 as mt5  # type: ignore[import-not-found,unused-ignore]
        from MetaTrader5 import TradePosition as Imported  # type: ignore[import-not-found,unused-ignore]

        assert Imported is TradePosition
        assert {n: getattr(mt5, n) for n in RECORDS} == RECORDS
        assert mt5.__version__ == "5.0.6231" and mt5.__author__
        assert (mt5.TIMEFRAME_H4, mt5.COPY_TICKS_ALL, mt5.BOOK_TYPE_BUY) == (16388, -1, 2)
    finally:
        if saved is None:
            del sys.modules["MetaTrader5"]
        else:
            sys.modules["MetaTrader5"] = saved
        module.redis.close()


# --- connection --------------------------------------------------------------------------------


def test_initialize_without_a_login_uses_the_last_account(redis_client: redis.Redis) -> None:
    """initialize(): "login: ... If not specified, the last trading account is used";
    shutdown() then initialize() reconnects; only a terminal that never logged in fails."""
    SimServer(redis_client, PREFIX).open_account(LOGIN)
    fresh = SimTerminal(redis_client, PREFIX)
    assert fresh.initialize() is False
    assert fresh.last_error() == (-6, "Authorization failed")
    assert fresh.initialize(login=LOGIN) is True
    fresh.shutdown()
    assert fresh.account_info() is None and fresh.last_error()[0] == -10004  # no IPC
    assert fresh.initialize() is True
    info = fresh.account_info()
    assert info is not None and info.login == LOGIN
    installed = SimTerminal(redis_client, PREFIX, account=LOGIN)  # a terminal used before
    assert installed.initialize() is True


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"login": "7100001"}, "login"),
        ({"login": LOGIN, "password": 1234}, "password"),
        ({"login": LOGIN, "server": 5}, "server"),
        ({"login": LOGIN, "timeout": 1.5}, "timeout"),
    ],
)
def test_initialize_refuses_arguments_of_the_wrong_type(
    redis_client: redis.Redis, kwargs: dict[str, object], field: str
) -> None:
    SimServer(redis_client, PREFIX).open_account(LOGIN)
    mt5 = SimTerminal(redis_client, PREFIX)
    assert mt5.initialize(**kwargs) is False  # type: ignore[arg-type]
    assert mt5.last_error() == (-2, f'Invalid "{field}" argument')


def test_version_is_terminal_version_build_and_release_date(mt5: SimTerminal) -> None:
    """version(): "(500, 2367, '23 Mar 2020')" in the reference's example."""
    version = mt5.version()
    assert version is not None
    major, build, date = version
    assert (major, build) == (500, 5000)
    assert datetime.strptime(date, "%d %b %Y").year >= 2020  # a date, as the terminal writes it
    mt5.shutdown()
    assert mt5.version() is None and mt5.last_error()[0] == -10004


# --- symbols -----------------------------------------------------------------------------------


def test_symbols_total_counts_every_symbol_in_market_watch_or_not(mt5: SimTerminal) -> None:
    assert mt5.symbols_total() == 7  # the seven shipped specs
    assert mt5.symbol_select("NZDUSD", False) is True
    assert mt5.symbols_total() == 7
    mt5.shutdown()
    assert mt5.symbols_total() is None and mt5.last_error()[0] == -10004


def test_symbol_select_hides_a_symbol_unless_it_is_traded(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    """symbol_select(symbol, False) removes it from Market Watch; "A symbol cannot be removed
    if ... positions are opened on it"."""
    assert mt5.symbol_select("GBPUSD", False) is True
    info = mt5.symbol_info("GBPUSD")
    assert info is not None and (info.select, info.visible) == (False, False)
    assert mt5.symbol_select("GBPUSD") is True  # enable defaults to selecting it again
    info = mt5.symbol_info("GBPUSD")
    assert info is not None and (info.select, info.visible) == (True, True)
    publish(redis_client, "EURUSD", [tick_at(1_578_699_000_000, 1.11, 1.1101)])
    sent = mt5.order_send(
        {"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 0}
    )
    assert sent is not None and sent.retcode == constants.TRADE_RETCODE_DONE
    assert mt5.symbol_select("EURUSD", False) is False
    assert mt5.last_error()[0] == -1
    info = mt5.symbol_info("EURUSD")
    assert info is not None and info.visible is True
    assert mt5.symbol_select("BTCUSD", True) is False and mt5.last_error()[0] == -4


def test_symbol_info_tick_before_the_first_quote_is_a_failure(
    mt5: SimTerminal, doc_ticks: list[Tick]
) -> None:
    """None "in case of an error", and then last_error() says what failed, never Success."""
    assert mt5.symbol_info_tick("USDJPY") is None
    code, _ = mt5.last_error()
    assert code == -1
    assert mt5.symbol_info_tick("EURUSD") == doc_ticks[-1]
    assert mt5.last_error() == (1, "Success")


def test_symbols_get_refuses_a_group_that_is_not_a_string(mt5: SimTerminal) -> None:
    assert mt5.symbols_get(group=5) is None  # type: ignore[arg-type]
    assert mt5.last_error() == (-2, 'Invalid "group" argument')
    assert [s.name for s in mt5.symbols_get(group="EUR*") or ()] == ["EURUSD", "EURJPY", "EURCAD"]


# --- Depth of Market ---------------------------------------------------------------------------


def test_market_book_needs_a_subscription(mt5: SimTerminal, doc_ticks: list[Tick]) -> None:
    """market_book_get() after market_book_add(): BookInfo entries, sell side first (the
    reference's example: BookInfo(type=1, price=..., volume=..., volume_dbl=...))."""
    assert mt5.market_book_get("EURUSD") is None and mt5.last_error()[0] == -1
    assert mt5.market_book_release("EURUSD") is False
    assert mt5.market_book_add("EURUSD") is True
    last = doc_ticks[-1]  # bid 1.11039, ask 1.11051; EURUSD volume_max 500 lots
    assert mt5.market_book_get("EURUSD") == (
        BookInfo(type=constants.BOOK_TYPE_SELL, price=last.ask, volume=500, volume_dbl=500.0),
        BookInfo(type=constants.BOOK_TYPE_BUY, price=last.bid, volume=500, volume_dbl=500.0),
    )
    assert mt5.market_book_release("EURUSD") is True
    assert mt5.market_book_get("EURUSD") is None
    assert mt5.market_book_add("BTCUSD") is False and mt5.last_error()[0] == -4
    assert mt5.market_book_add("USDJPY") is True
    assert mt5.market_book_get("USDJPY") is None  # subscribed, no quote yet
    assert mt5.last_error()[0] == -1


# --- ticks -------------------------------------------------------------------------------------


def test_copy_ticks_from_answers_the_references_example(
    mt5: SimTerminal, doc_ticks: list[Tick]
) -> None:
    """copy_ticks_from("EURUSD", 2020-01-10 UTC, count, COPY_TICKS_ALL): the reference's first
    rows, in the package's dtype."""
    ticks = mt5.copy_ticks_from("EURUSD", JAN_10, 100_000, constants.COPY_TICKS_ALL)
    assert ticks is not None
    assert ticks.dtype.names == (
        "time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real",
    )  # fmt: skip
    assert [tuple(row) for row in ticks.tolist()] == [tuple(t) for t in doc_ticks]
    three = mt5.copy_ticks_from("EURUSD", 1_578_614_404, 3, constants.COPY_TICKS_INFO)
    assert three is not None  # from 00:00:04.000: the 3rd, 4th and 5th ticks
    assert three["time_msc"].tolist() == [1578614404057, 1578614404344, 1578614412106]
    trades = mt5.copy_ticks_from("EURUSD", JAN_10, 10, constants.COPY_TICKS_TRADE)
    assert trades is not None and len(trades) == 0  # quotes, no trades (no LAST flag)


def test_copy_ticks_range_includes_both_ends(mt5: SimTerminal, doc_ticks: list[Tick]) -> None:
    start = datetime(2020, 1, 10, 0, 0, 4, 57_000, tzinfo=UTC)  # 1578614404057, the 3rd tick
    end = datetime(2020, 1, 10, 0, 0, 18, 265_000, tzinfo=UTC)  # 1578614418265, the 6th
    ticks = mt5.copy_ticks_range("EURUSD", start, end, constants.COPY_TICKS_ALL)
    assert ticks is not None
    assert ticks["time_msc"].tolist() == [t.time_msc for t in doc_ticks[2:6]]
    by_seconds = mt5.copy_ticks_range("EURUSD", 1_578_614_456, 1_578_614_456, -1)
    assert by_seconds is not None  # the second 00:00:56 whole: the last two ticks
    assert by_seconds["time_msc"].tolist() == [1578614456011, 1578614456015]
    empty = mt5.copy_ticks_range("EURUSD", 0, 1_000, constants.COPY_TICKS_ALL)
    assert empty is not None and len(empty) == 0


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda m: m.copy_ticks_from("EURUSD", JAN_10, 10, 5), -2),  # flags: no COPY_TICKS_*
        (lambda m: m.copy_ticks_from("EURUSD", JAN_10, 0, -1), -2),  # count must be positive
        (lambda m: m.copy_ticks_from("EURUSD", "2020-01-10", 10, -1), -2),  # a date, not text
        (lambda m: m.copy_ticks_range("EURUSD", JAN_10, None, -1), -2),
        (lambda m: m.copy_ticks_from("BTCUSD", JAN_10, 10, -1), -4),  # unknown symbol
        (lambda m: m.copy_rates_from("EURUSD", 7, JAN_10, 10), -2),  # 7: no TIMEFRAME_*
        (lambda m: m.copy_rates_from("EURUSD", constants.TIMEFRAME_M1, JAN_10, 0), -2),
        (lambda m: m.copy_rates_from_pos("EURUSD", constants.TIMEFRAME_M1, -1, 5), -2),
        (lambda m: m.copy_rates_range("BTCUSD", constants.TIMEFRAME_M1, JAN_10, JAN_10), -4),
    ],
)
def test_bad_arguments_answer_none_and_the_reason(
    mt5: SimTerminal, doc_ticks: list[Tick], call: object, code: int
) -> None:
    assert call(mt5) is None  # type: ignore[operator]
    assert mt5.last_error()[0] == code


# --- bars --------------------------------------------------------------------------------------

# Ticks after the reference's ten (all in 00:00 of 2020-01-10): two in 00:01, one in 04:00.
LATER = [
    tick_at(1_578_614_460_500, 1.11045, 1.11057),  # 00:01:00.5
    tick_at(1_578_614_519_000, 1.11060, 1.11070),  # 00:01:59
    tick_at(1_578_628_800_000, 1.11200, 1.11215),  # 04:00:00
]


@pytest.fixture
def bar_ticks(redis_client: redis.Redis, doc_ticks: list[Tick]) -> list[Tick]:
    publish(redis_client, "EURUSD", LATER)
    return [*doc_ticks, *LATER]


# Worked by hand from the bids (EURUSD's chart_mode is BID):
# 00:00 bar: the reference's 10 ticks: open 1.11051, high 1.11052, low 1.11037, close 1.11039,
#   spreads in points 18,18,16,18,12,12,10,12,28,12 → smallest 10.
# 00:01 bar: open 1.11045, high 1.11060, low 1.11045, close 1.11060, 2 ticks, spreads 12,10.
# 04:00 bar: one tick at 1.11200, spread 15.
M1_00 = (1578614400, 1.11051, 1.11052, 1.11037, 1.11039, 10, 10, 0)
M1_01 = (1578614460, 1.11045, 1.1106, 1.11045, 1.1106, 2, 10, 0)
M1_04 = (1578628800, 1.112, 1.112, 1.112, 1.112, 1, 15, 0)


def test_copy_rates_from_takes_bars_opened_at_or_before_the_date(
    mt5: SimTerminal, bar_ticks: list[Tick]
) -> None:
    """ "Only data whose date is less than or equal to the specified date will be returned":
    the last `count` bars opened up to date_from, oldest first."""
    bars = mt5.copy_rates_from("EURUSD", constants.TIMEFRAME_M1, 1_578_614_460, 10)
    assert bars is not None
    assert bars.dtype.names == (
        "time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume",
    )  # fmt: skip
    assert [str(bars.dtype[n]) for n in bars.dtype.names] == [
        "int64", "float64", "float64", "float64", "float64", "uint64", "int32", "uint64",
    ]  # fmt: skip
    assert [tuple(b) for b in bars.tolist()] == [M1_00, M1_01]
    last_one = mt5.copy_rates_from("EURUSD", constants.TIMEFRAME_M1, JAN_10.replace(hour=5), 1)
    assert last_one is not None and [tuple(b) for b in last_one.tolist()] == [M1_04]


def test_copy_rates_from_pos_counts_back_from_the_current_bar(
    mt5: SimTerminal, bar_ticks: list[Tick]
) -> None:
    current = mt5.copy_rates_from_pos("EURUSD", constants.TIMEFRAME_M1, 0, 1)
    assert current is not None and [tuple(b) for b in current.tolist()] == [M1_04]
    older = mt5.copy_rates_from_pos("EURUSD", constants.TIMEFRAME_M1, 1, 5)
    assert older is not None and [tuple(b) for b in older.tolist()] == [M1_00, M1_01]
    none_left = mt5.copy_rates_from_pos("EURUSD", constants.TIMEFRAME_M1, 3, 5)
    assert none_left is not None and len(none_left) == 0


def test_copy_rates_range_and_the_longer_timeframes(
    mt5: SimTerminal, bar_ticks: list[Tick]
) -> None:
    four = JAN_10.replace(hour=4)
    m1 = mt5.copy_rates_range("EURUSD", constants.TIMEFRAME_M1, 1_578_614_460, four)
    assert m1 is not None and [tuple(b) for b in m1.tolist()] == [M1_01, M1_04]
    # H4 from midnight: 00:00 holds the 12 ticks before 04:00 (high 1.11060, low 1.11037,
    # close 1.11060, smallest spread 10), 04:00 the last one
    h4 = mt5.copy_rates_range("EURUSD", constants.TIMEFRAME_H4, JAN_10, JAN_10.replace(hour=23))
    assert h4 is not None and [tuple(b) for b in h4.tolist()] == [
        (1578614400, 1.11051, 1.1106, 1.11037, 1.1106, 12, 10, 0),
        (1578628800, 1.112, 1.112, 1.112, 1.112, 1, 15, 0),
    ]

    # W1 bars open on Sunday 00:00: 2020-01-10 was a Friday, its week began on 2020-01-05
    def current(timeframe: int) -> tuple[object, ...]:
        bars = mt5.copy_rates_from_pos("EURUSD", timeframe, 0, 1)
        assert bars is not None and len(bars) == 1
        return tuple(bars.tolist()[0])

    week = current(constants.TIMEFRAME_W1)
    assert week[0] == int(datetime(2020, 1, 5, tzinfo=UTC).timestamp()) and week[5] == 13
    assert current(constants.TIMEFRAME_MN1)[0] == int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
    day = (1578614400, 1.11051, 1.112, 1.11037, 1.112, 13, 10, 0)  # the 13 ticks of the day
    assert current(constants.TIMEFRAME_D1) == day


# --- history -----------------------------------------------------------------------------------


@pytest.fixture
def traded(
    mt5: SimTerminal, redis_client: redis.Redis, now: list[float]
) -> Iterator[dict[str, int]]:
    """A buy at 23:46:40 closed an hour later: two orders, two deals (and the deposit)."""
    publish(redis_client, "EURUSD", [tick_at(1_578_699_000_000, 1.11, 1.1101)])
    request = {"action": 1, "symbol": "EURUSD", "volume": 0.1, "type": 0, "type_filling": 0}
    opened = mt5.order_send(request)
    now[0] += 3600
    closed = mt5.order_send({**request, "type": 1, "position": opened.order if opened else 0})
    assert opened is not None and closed is not None and closed.retcode == 10009
    yield {"open_order": opened.order, "open_deal": opened.deal, "close_order": closed.order}


def test_history_deals_get_ticket_is_an_order_ticket(
    mt5: SimTerminal, traded: dict[str, int]
) -> None:
    """history_deals_get(ticket=...): "Order ticket (stored in DEAL_ORDER) all deals should be
    received for"; position=...: the position's (DEAL_POSITION_ID)."""
    (deal,) = mt5.history_deals_get(ticket=traded["open_order"]) or ()
    assert (deal.ticket, deal.order) == (traded["open_deal"], traded["open_order"])
    (closing,) = mt5.history_deals_get(ticket=traded["close_order"]) or ()
    assert closing.entry == constants.DEAL_ENTRY_OUT
    assert mt5.history_deals_get(ticket=traded["open_deal"]) == ()  # a deal's own ticket: no
    by_position = mt5.history_deals_get(position=traded["open_order"]) or ()
    assert [d.order for d in by_position] == [traded["open_order"], traded["close_order"]]


def test_history_totals_count_the_range(mt5: SimTerminal, traded: dict[str, int]) -> None:
    """history_orders_total / history_deals_total(date_from, date_to): the number in the range."""
    day = (datetime(2020, 1, 10, tzinfo=UTC), datetime(2020, 1, 12, tzinfo=UTC))
    assert mt5.history_orders_total(*day) == 2
    assert mt5.history_deals_total(*day) == 2  # the deposit was booked at the wall clock
    first_hour = (1_578_700_000, 1_578_703_599)
    assert (mt5.history_orders_total(*first_hour), mt5.history_deals_total(*first_hour)) == (1, 1)
    assert mt5.history_deals_total(0, 1) == 0
    assert mt5.history_orders_total(None, 1) is None  # type: ignore[arg-type]
    assert mt5.last_error()[0] == -2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda m: m.positions_get(symbol=5), "symbol"),
        (lambda m: m.positions_get(group=["*USD*"]), "group"),
        (lambda m: m.orders_get(ticket="123"), "ticket"),
        (lambda m: m.history_deals_get(ticket=1.5), "ticket"),
        (lambda m: m.history_orders_get(position="7"), "position"),
        (lambda m: m.history_deals_get("2020-01-01", JAN_10), "date_from"),
        (lambda m: m.order_calc_margin(constants.ORDER_TYPE_BUY, "EURUSD", 0.0, 1.1), "volume"),
        (lambda m: m.order_calc_margin(constants.ORDER_TYPE_BUY, "EURUSD", 1.0, -1.0), "price"),
        (
            lambda m: m.order_calc_profit(constants.ORDER_TYPE_SELL, "EURUSD", 1.0, 1.1, None),
            "price_close",
        ),
    ],
)
def test_arguments_of_the_wrong_type_or_sign_name_the_argument(
    mt5: SimTerminal, call: object, field: str
) -> None:
    """The package refuses them before the terminal sees them: None and (-2, 'Invalid
    "ticket" argument'), the wording of its own messages."""
    assert call(mt5) is None  # type: ignore[operator]
    code, text = mt5.last_error()
    assert code == -2 and text.startswith(f'Invalid "{field}" argument')


def test_listings_with_nothing_to_list_are_empty_not_failures(mt5: SimTerminal) -> None:
    """positions_get / orders_get on an account without any: an empty tuple (a failure would
    be None), and the totals 0."""
    assert (mt5.positions_get(), mt5.orders_get(), mt5.positions_get(symbol="EURUSD")) == (
        (),
        (),
        (),
    )
    assert (mt5.positions_total(), mt5.orders_total()) == (0, 0)
    assert mt5.history_orders_get(0, 10) == () and mt5.history_orders_total(0, 10) == 0
    mt5.shutdown()
    assert mt5.positions_get() is None and mt5.positions_total() is None
    assert mt5.last_error()[0] == -10004


# --- the package's own helpers -----------------------------------------------------------------


def test_buy_sell_and_close_work_as_the_packages_helpers(
    mt5: SimTerminal, redis_client: redis.Redis
) -> None:
    """Buy/Sell (deviation 10, the latest quote when no price) and Close (True when every
    position of the symbol closed), written in MetaTrader5/__init__.py on top of order_send."""
    publish(redis_client, "GBPUSD", [tick_at(1_578_699_000_000, 1.30412, 1.30427)])
    bought = mt5.Buy("GBPUSD", 0.1)
    sold = mt5.Sell("GBPUSD", 0.2, comment="hedge")
    assert bought is not None and sold is not None
    assert (bought.retcode, bought.price, bought.request.deviation) == (10009, 1.30427, 10)
    assert (sold.price, sold.request.comment) == (1.30412, "hedge")
    assert mt5.positions_total() == 2
    assert mt5.Close("GBPUSD") is True
    assert mt5.positions_total() == 0
    assert mt5.Close("GBPUSD") is False  # nothing left to close
