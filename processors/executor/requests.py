"""Plan the MT5 requests of one order against the account as it is right now."""

from __future__ import annotations

from brokers.mt5 import constants as mt5
from brokers.mt5 import requests as build
from brokers.mt5.records import SymbolInfo
from brokers.mt5.terminal import Terminal
from brokers.types import BrokerUnavailable, TradeRequest
from model import Action, Order, TradingConfig
from model.tick import Tick
from processors.executor.limits import AccountLimits
from processors.rules import Refusal

POSITION_ACTIONS = frozenset({Action.CLOSE, Action.SLTP, Action.CLOSE_ALL})
PENDING_ACTIONS = frozenset({Action.MODIFY, Action.CANCEL, Action.CLOSE_ALL})


def plan_requests(
    order: Order, terminal: Terminal, config: TradingConfig, limits: AccountLimits | None = None
) -> list[TradeRequest]:
    """Account limits are checked here against the broker's truth, unless `limits` shows the
    order is far from all of them (see limits.py)."""
    if order.action is Action.OPEN:
        return [_open(order, terminal, config, limits)]
    held = terminal.positions_get(order.symbol) if order.action in POSITION_ACTIONS else ()
    resting = terminal.orders_get(order.symbol) if order.action in PENDING_ACTIONS else ()
    positions = build.matching_positions(order, held)
    pending = build.matching_orders(order, resting)
    requests: list[TradeRequest] = []
    if order.action is Action.CLOSE_ALL:  # opposite positions close by each other first
        pairs, positions = build.close_by_plan(positions)
        requests += [build.close_by_request(order, first, second) for first, second in pairs]
    if order.action in (Action.CLOSE, Action.CLOSE_ALL):
        too_small: list[str] = []
        for position in positions:
            info, tick = _market(terminal, position.symbol)
            if order.close_percent is not None and not build.close_volume(order, position, info):
                too_small.append(f"{position.volume} lots (ticket {position.ticket})")
                continue
            requests.append(build.close_request(order, position, info, tick))
        if too_small and not requests:
            raise Refusal(
                "close_percent",
                f"{order.close_percent}% of {', '.join(too_small)} is less than the volume "
                "step allows: nothing to close",
            )
    if order.action is Action.SLTP:
        requests += [build.sltp_request(order, p) for p in positions]
    if order.action is Action.MODIFY:
        requests += [build.modify_request(order, o) for o in pending]
    if order.action in (Action.CANCEL, Action.CLOSE_ALL):
        requests += [build.remove_request(order, o) for o in pending]
    if not requests:
        foreign = {p.ticket for p in held if p.magic != order.magic}
        foreign |= {o.ticket for o in resting if o.magic != order.magic}
        if order.ticket in foreign:
            raise Refusal(
                "ticket",
                f"{order.ticket} is not a trade of this instance (magic {order.magic}): exits "
                "never touch manual trades or other EAs' positions",
            )
        what = "pending order" if order.action in (Action.MODIFY, Action.CANCEL) else "position"
        scope = f"ticket {order.ticket}" if order.ticket else (order.symbol or "this instance")
        raise Refusal("ticket", f"no open {what} matches {scope}")
    return requests


def require_open_fields(order: Order) -> None:
    """An order to open that lacks what MT5 needs is refused by name (orders:* entries may
    come from elsewhere than the router, which checks the same on signals)."""
    if not order.symbol:
        raise Refusal("symbol", "is required for action open")
    if order.order_type is None:
        raise Refusal("order_type", "is required for action open")
    if order.volume is None:
        raise Refusal("volume", "is required for action open")
    if order.order_type.is_pending and order.price is None:
        raise Refusal("price", f"is required for a {order.order_type} order")
    if "stop_limit" in order.order_type and order.stop_limit is None:
        raise Refusal("stop_limit", f"is required for a {order.order_type} order")


def _market(terminal: Terminal, symbol: str) -> tuple[SymbolInfo, Tick]:
    info = terminal.symbol_info(symbol)
    if info is None:
        raise Refusal("symbol", f"{symbol} is unknown to the broker")
    tick = terminal.symbol_info_tick(symbol)
    if tick is None:
        raise BrokerUnavailable(f"no price for {symbol}")
    return info, tick


def _open(
    order: Order, terminal: Terminal, config: TradingConfig, limits: AccountLimits | None
) -> TradeRequest:
    require_open_fields(order)
    assert order.symbol is not None
    if limits is None or not limits.clears(order, config):
        _check_account(order, terminal, config)
    info, tick = _market(terminal, order.symbol)
    return build.open_request(order, info, tick)


def _check_account(order: Order, terminal: Terminal, config: TradingConfig) -> None:
    assert order.symbol is not None and order.order_type is not None
    positions = terminal.positions_get()
    pending = terminal.orders_get()
    if len(positions) + len(pending) >= config.max_open_orders:
        raise Refusal(
            "max_open_orders",
            f"{len(positions)} positions and {len(pending)} pending orders reach the limit "
            f"of {config.max_open_orders}",
        )
    if config.pyramiding is not None:
        wanted = mt5.POSITION_TYPE_BUY if order.order_type.is_buy else mt5.POSITION_TYPE_SELL
        same = sum(1 for p in positions if p.symbol == order.symbol and p.type == wanted)
        if same >= config.pyramiding:
            raise Refusal("pyramiding", f"{same} {order.order_type} positions on {order.symbol}")
    account = terminal.account_info()
    if account is None:
        raise BrokerUnavailable("account_info unavailable")
    floor = account.balance * (1 - float(config.max_drawdown) / 100)
    if account.equity < floor:
        raise Refusal(
            "max_drawdown",
            f"equity {account.equity:.2f} is below {floor:.2f} "
            f"({config.max_drawdown}% drawdown of balance {account.balance:.2f})",
        )
