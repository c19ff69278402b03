"""Domain messages that flow through the streams: signals, orders, results, state, trades."""

from model.base import Message, refusal_of
from model.config import (
    InstanceSpec,
    SymbolConfig,
    TradingConfig,
    TradingState,
    TrailingStop,
)
from model.enums import (
    EXIT_ACTIONS,
    Action,
    OrderStatus,
    OrderTime,
    OrderType,
    Side,
    SizingMode,
    StopsUnit,
)
from model.ids import new_id
from model.lifecycle import IllegalTransition, OrderLifecycle
from model.order import Order
from model.report import InstanceReport, InstanceStatus, ReportKind
from model.result import Result
from model.signal import AlertTrailing, Signal, TakeProfit
from model.state import AccountState, PendingOrderState, PositionState
from model.trade import TradeEvent, TradeState, TradeStatus

__all__ = [
    "EXIT_ACTIONS",
    "AccountState",
    "Action",
    "AlertTrailing",
    "IllegalTransition",
    "InstanceReport",
    "InstanceSpec",
    "InstanceStatus",
    "Message",
    "Order",
    "OrderLifecycle",
    "OrderStatus",
    "OrderTime",
    "OrderType",
    "PendingOrderState",
    "PositionState",
    "ReportKind",
    "Result",
    "Side",
    "Signal",
    "SizingMode",
    "StopsUnit",
    "SymbolConfig",
    "TakeProfit",
    "TradeEvent",
    "TradeState",
    "TradeStatus",
    "TradingConfig",
    "TradingState",
    "TrailingStop",
    "new_id",
    "refusal_of",
]
