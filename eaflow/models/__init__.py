"""Domain messages that flow through the streams: signals, orders, results, state."""

from eaflow.models.base import Message, refusal_of
from eaflow.models.config import (
    InstanceSpec,
    SymbolConfig,
    TradingConfig,
    TradingState,
    TrailingStop,
)
from eaflow.models.enums import (
    EXIT_ACTIONS,
    Action,
    OrderStatus,
    OrderType,
    Side,
    SizingMode,
    StopsUnit,
)
from eaflow.models.ids import new_id
from eaflow.models.lifecycle import IllegalTransition, OrderLifecycle
from eaflow.models.order import Order
from eaflow.models.report import InstanceReport, InstanceStatus, ReportKind
from eaflow.models.result import Result
from eaflow.models.signal import Signal
from eaflow.models.state import AccountState, PendingOrderState, PositionState

__all__ = [
    "EXIT_ACTIONS",
    "AccountState",
    "Action",
    "IllegalTransition",
    "InstanceReport",
    "InstanceSpec",
    "InstanceStatus",
    "Message",
    "Order",
    "OrderLifecycle",
    "OrderStatus",
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
    "TradingConfig",
    "TradingState",
    "TrailingStop",
    "new_id",
    "refusal_of",
]
