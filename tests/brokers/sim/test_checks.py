"""The retcode the simulator answers for each mistake, through order_send/order_check."""

from __future__ import annotations

import time

import pytest
import redis

from brokers.mt5.records import SymbolInfo
from brokers.sim import checks
from brokers.sim.checks import Reject
from brokers.sim.server import SimServer
from brokers.sim.symbols import SymbolTable, default_symbols
from brokers.sim.terminal import SimTerminal
from tests.brokers.sim.conftest import (
    EURUSD_OPEN,
    LOGIN,
    PREFIX,
    USDJPY_OPEN,
    buy,
    make_tick,
    quote,
    sell,
)


def retcode_of(mt5: SimTerminal, request: dict[str, object]) -> int:
    """order_send's retcode, after checking that order_check foresaw it."""
    checked = mt5.order_check(request)
    assert checked is not None, mt5.last_error()
    result = mt5.order_send(request)
    assert result is not None, mt5.last_error()
    assert checked.retcode == (0 if result.retcode in (10008, 10009) else result.retcode)
    return result.retcode


def edited(*, stops_level: int = 0, freeze_level: int = 0, trade_mode: int = 4) -> SymbolTable:
    """The bundled symbols with EURUSD's levels or trade mode changed."""

    def edit(info: SymbolInfo) -> SymbolInfo:
        return info._replace(
            trade_stops_level=stops_level, trade_freeze_level=freeze_level, trade_mode=trade_mode
        )

    return SymbolTable(edit(i) if i.name == "EURUSD" else i for i in default_symbols())


def terminal_with(redis_client: redis.Redis, symbols: SymbolTable) -> SimTerminal:
    SimServer(redis_client, PREFIX).open_account(LOGIN + 1, balance=10_000)
    mt5 = SimTerminal(redis_client, PREFIX, symbols=symbols)
    assert mt5.initialize(login=LOGIN + 1)
    return mt5


@pytest.fixture
def eurusd(redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)


@pytest.mark.usefixtures("eurusd")
@pytest.mark.parametrize("volume", [0.0, 0.001, 500.01, 0.015, 0.1 + 0.2])
def test_invalid_volume(mt5: SimTerminal, volume: float) -> None:
    assert retcode_of(mt5, buy(mt5, "EURUSD", volume)) == mt5.TRADE_RETCODE_INVALID_VOLUME


@pytest.mark.usefixtures("eurusd")
def test_volume_on_the_step_is_valid(mt5: SimTerminal) -> None:
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.07)) == mt5.TRADE_RETCODE_DONE


@pytest.mark.usefixtures("eurusd")
def test_invalid_stops_buy_with_sl_above_the_bid(mt5: SimTerminal) -> None:
    """Like a real log (EURCAD BUY with SL above entry): 10016 Invalid stops."""
    request = buy(mt5, "EURUSD", 0.01, sl=1.38750, tp=1.3900)
    result = mt5.order_send(request)
    assert result is not None
    assert result.retcode == mt5.TRADE_RETCODE_INVALID_STOPS
    assert result.comment.startswith("Invalid stops (sl 1.3875 must be at least 1 points below")


@pytest.mark.usefixtures("eurusd")
@pytest.mark.parametrize(
    ("side", "sl", "tp"),
    [("buy", 0.0, 1.38742), ("sell", 1.38700, 0.0), ("sell", 0.0, 1.38800), ("buy", 1.387001, 0)],
)
def test_invalid_stops(mt5: SimTerminal, side: str, sl: float, tp: float) -> None:
    request = (buy if side == "buy" else sell)(mt5, "EURUSD", 0.01, sl=sl, tp=tp)
    assert retcode_of(mt5, request) == mt5.TRADE_RETCODE_INVALID_STOPS


def test_stops_level_is_a_minimum_distance_in_points(redis_client: redis.Redis) -> None:
    mt5 = terminal_with(redis_client, edited(stops_level=10))
    quote(redis_client, "EURUSD", EURUSD_OPEN)  # bid 1.38742
    too_close = buy(mt5, "EURUSD", 0.01, sl=1.38733)  # 9 points below the bid
    assert retcode_of(mt5, too_close) == mt5.TRADE_RETCODE_INVALID_STOPS
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.01, sl=1.38732)) == mt5.TRADE_RETCODE_DONE


def test_no_money(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    # each lot needs 1,387.55 USD of margin: 10 lots are more than the 10,000 USD
    assert retcode_of(mt5, buy(mt5, "EURUSD", 10.0)) == mt5.TRADE_RETCODE_NO_MONEY
    assert retcode_of(mt5, buy(mt5, "EURUSD", 6.0)) == mt5.TRADE_RETCODE_DONE
    # equity 10,000 - 6 x 13 (spread) = 9,922; free 9,922 - 8,325.30 = 1,596.70 >= 1,387.55
    assert retcode_of(mt5, buy(mt5, "EURUSD", 1.0)) == mt5.TRADE_RETCODE_DONE
    # then free is 9,909 - 9,712.85 = 196.15
    assert retcode_of(mt5, buy(mt5, "EURUSD", 1.0)) == mt5.TRADE_RETCODE_NO_MONEY
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.14)) == mt5.TRADE_RETCODE_DONE


@pytest.mark.usefixtures("eurusd")
def test_market_closed(mt5: SimTerminal, server: SimServer) -> None:
    server.set_market_open("EURUSD", False)
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.1)) == mt5.TRADE_RETCODE_MARKET_CLOSED
    server.set_market_open("EURUSD", True)
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.1)) == mt5.TRADE_RETCODE_DONE


def test_no_quotes_yet(mt5: SimTerminal) -> None:
    result = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    assert result is not None
    assert (result.retcode, result.comment) == (10021, "No prices (no quotes for EURUSD yet)")


@pytest.mark.usefixtures("eurusd")
def test_invalid_request(mt5: SimTerminal) -> None:
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.1, action=99)) == mt5.TRADE_RETCODE_INVALID
    assert retcode_of(mt5, buy(mt5, "EURUSX", 0.1)) == mt5.TRADE_RETCODE_INVALID
    assert retcode_of(mt5, {"symbol": "EURUSD"}) == mt5.TRADE_RETCODE_INVALID
    pending_type = buy(mt5, "EURUSD", 0.1, type=mt5.ORDER_TYPE_BUY_LIMIT)
    assert retcode_of(mt5, pending_type) == mt5.TRADE_RETCODE_INVALID_ORDER


def test_invalid_fill(mt5: SimTerminal, redis_client: redis.Redis) -> None:
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    quote(redis_client, "USDJPY", USDJPY_OPEN)
    # USDJPY: market execution, filling_mode 2 (IOC only)
    for filling in (mt5.ORDER_FILLING_FOK, mt5.ORDER_FILLING_RETURN):
        request = buy(mt5, "USDJPY", 0.1, type_filling=filling)
        assert retcode_of(mt5, request) == mt5.TRADE_RETCODE_INVALID_FILL
    assert retcode_of(mt5, buy(mt5, "USDJPY", 0.1)) == mt5.TRADE_RETCODE_DONE  # IOC
    # EURUSD: instant execution, filling_mode 1 (FOK); RETURN works as on MetaQuotes-Demo
    ioc = buy(mt5, "EURUSD", 0.1, type_filling=mt5.ORDER_FILLING_IOC)
    assert retcode_of(mt5, ioc) == mt5.TRADE_RETCODE_INVALID_FILL
    ret = buy(mt5, "EURUSD", 0.1, type_filling=mt5.ORDER_FILLING_RETURN)
    assert retcode_of(mt5, ret) == mt5.TRADE_RETCODE_DONE
    result = mt5.order_send(ioc)
    assert result is not None and result.comment.startswith("Unsupported filling mode")


@pytest.mark.usefixtures("eurusd")
def test_position_closed_and_close_volume(mt5: SimTerminal) -> None:
    opened = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    assert opened is not None
    too_much = sell(mt5, "EURUSD", 0.2, position=opened.order)
    assert retcode_of(mt5, too_much) == mt5.TRADE_RETCODE_INVALID_CLOSE_VOLUME
    same_side = buy(mt5, "EURUSD", 0.1, position=opened.order)
    assert retcode_of(mt5, same_side) == mt5.TRADE_RETCODE_INVALID
    close = sell(mt5, "EURUSD", 0.1, position=opened.order)
    assert retcode_of(mt5, close) == mt5.TRADE_RETCODE_DONE
    assert retcode_of(mt5, close) == mt5.TRADE_RETCODE_POSITION_CLOSED


def test_frozen_within_the_freeze_level(redis_client: redis.Redis) -> None:
    mt5 = terminal_with(redis_client, edited(freeze_level=5))
    quote(redis_client, "EURUSD", EURUSD_OPEN)  # bid 1.38742
    opened = mt5.order_send(buy(mt5, "EURUSD", 0.1, sl=1.38738))  # 4 points below the bid
    assert opened is not None and opened.retcode == mt5.TRADE_RETCODE_DONE
    move = {"action": mt5.TRADE_ACTION_SLTP, "symbol": "EURUSD", "position": opened.order}
    assert retcode_of(mt5, {**move, "sl": 1.38700}) == mt5.TRADE_RETCODE_FROZEN
    close = sell(mt5, "EURUSD", 0.1, position=opened.order)
    assert retcode_of(mt5, close) == mt5.TRADE_RETCODE_FROZEN


@pytest.mark.usefixtures("eurusd")
def test_connection_down(mt5: SimTerminal, server: SimServer) -> None:
    server.set_connected(LOGIN, False)
    result = mt5.order_send(buy(mt5, "EURUSD", 0.1))
    assert result is not None and result.retcode == mt5.TRADE_RETCODE_CONNECTION
    assert mt5.positions_total() == 0
    server.set_connected(LOGIN, True)
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.1)) == mt5.TRADE_RETCODE_DONE


@pytest.mark.usefixtures("eurusd")
def test_requote_beyond_the_deviation(mt5: SimTerminal) -> None:
    """EURUSD is instant execution: a requested price more than `deviation` points off."""
    stale = buy(mt5, "EURUSD", 0.1, price=1.38735, deviation=10)  # ask is 1.38755: 20 points
    result = mt5.order_send(stale)
    assert result is not None
    assert (result.retcode, result.bid, result.ask) == (10004, 1.38742, 1.38755)
    near = buy(mt5, "EURUSD", 0.1, price=1.38745, deviation=10)
    assert retcode_of(mt5, near) == mt5.TRADE_RETCODE_DONE


def test_trade_mode_long_only(redis_client: redis.Redis) -> None:
    mt5 = terminal_with(redis_client, edited(trade_mode=1))
    quote(redis_client, "EURUSD", EURUSD_OPEN)
    assert retcode_of(mt5, sell(mt5, "EURUSD", 0.1)) == mt5.TRADE_RETCODE_LONG_ONLY
    assert retcode_of(mt5, buy(mt5, "EURUSD", 0.1)) == mt5.TRADE_RETCODE_DONE


def test_malformed_requests_return_none_with_the_field(mt5: SimTerminal) -> None:
    assert mt5.order_send({**buy(mt5, "EURUSD", 0.1), "volume": "0.1"}) is None
    assert mt5.last_error() == (-2, "Invalid \"volume\" argument: expected a number, got '0.1'")
    assert mt5.order_check({**buy(mt5, "EURUSD", 0.1), "volumes": 1}) is None
    assert mt5.last_error() == (-2, 'Invalid "volumes" argument: not a trade request field')
    assert mt5.order_send(buy(mt5, "EURUSD", 0.1, magic=-1)) is None
    assert "magic" in mt5.last_error()[1]


def test_not_initialized_means_no_ipc(redis_client: redis.Redis) -> None:
    mt5 = SimTerminal(redis_client, PREFIX)
    assert mt5.order_send(buy(mt5, "EURUSD", 0.1)) is None
    assert mt5.last_error() == (-10004, "No IPC connection")
    assert mt5.positions_get() is None
    assert mt5.account_info() is None
    assert mt5.symbol_select("EURUSD") is False


def test_after_shutdown_calls_fail_until_initialize(mt5: SimTerminal) -> None:
    mt5.shutdown()
    assert mt5.account_info() is None and mt5.last_error()[0] == -10004
    assert mt5.initialize(login=LOGIN)
    assert mt5.account_info() is not None and mt5.last_error() == (1, "Success")


EURUSD_SPEC: SymbolInfo = next(i for i in default_symbols() if i.name == "EURUSD")


@pytest.mark.parametrize(
    ("exemode", "filling_mode", "pending", "allowed"),
    [
        # instant execution (1): FOK and RETURN, IOC only with its bit
        (1, 1, False, {0, 2}),
        (1, 3, False, {0, 1, 2}),
        # market execution (2): only the symbol's bits, never RETURN
        (2, 1, False, {0}),
        (2, 2, False, {1}),
        (2, 3, False, {0, 1}),
        # exchange execution (3): the bits and RETURN
        (3, 2, False, {1, 2}),
        # pending orders: RETURN always, FOK/IOC with their bits
        (2, 2, True, {1, 2}),
        (1, 1, True, {0, 2}),
    ],
)
def test_filling_rules(exemode: int, filling_mode: int, pending: bool, allowed: set[int]) -> None:
    info = EURUSD_SPEC._replace(trade_exemode=exemode, filling_mode=filling_mode)
    order_type = 2 if pending else 0
    accepted = set()
    for filling in range(4):
        try:
            checks.filling(info, order_type, filling, pending)
            accepted.add(filling)
        except Reject as reject:
            assert reject.retcode == 10030
    assert accepted == allowed


def test_boc_only_for_limits_under_exchange_execution() -> None:
    info = EURUSD_SPEC._replace(trade_exemode=3)
    checks.filling(info, 2, 3, pending=True)
    with pytest.raises(Reject):
        checks.filling(info, 4, 3, pending=True)


def test_expiration_rules() -> None:
    now = int(time.time())
    checks.expiration(EURUSD_SPEC, 2, now + 60, now)
    with pytest.raises(Reject, match="later than the server time"):
        checks.expiration(EURUSD_SPEC, 2, now, now)
    with pytest.raises(Reject, match="expiration_mode 7"):
        checks.expiration(EURUSD_SPEC._replace(expiration_mode=7), 3, now + 86_400, now)


def test_pending_price_side_and_tick_size() -> None:
    tick = make_tick(EURUSD_OPEN)  # bid 1.38742, ask 1.38755
    checks.pending_price(EURUSD_SPEC, 2, 1.38754, tick)  # buy limit below the ask
    for order_type, price in [(2, 1.38755), (3, 1.38742), (4, 1.38755), (5, 1.38742)]:
        with pytest.raises(Reject) as failed:
            checks.pending_price(EURUSD_SPEC, order_type, price, tick)
        assert failed.value.retcode == 10015
    with pytest.raises(Reject, match="multiple of trade_tick_size"):
        checks.pending_price(EURUSD_SPEC, 2, 1.387001, tick)
