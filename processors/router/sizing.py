"""Order size from the signal or the configuration (fixed lots or money risked at the stop),
and the operator's caps on what one order may be.

Money at the stop is what MT5 books when the stop is hit: the move times the contract in the
profit currency, converted to the account currency at the loss side's rate *at the stop*
(through the traded symbol at the stop price, through other symbols at their live quotes),
as `live_loss` values it. Without it (or while no quote converts the profit currency) the
symbol's published loss tick value is the fallback: frozen when the symbols were published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_DOWN, Context, Decimal

from brokers.mt5 import constants as mt5
from brokers.mt5.records import SymbolInfo
from brokers.sim.margin import PricingError, to_account
from brokers.sim.symbols import SymbolTable
from model import Signal, SizingMode, TradingConfig
from model.money import dec
from model.tick import Tick
from processors.rules import Refusal, check_volume, floor_volume, tick_size

RATE_DIGITS = Context(prec=12, rounding=ROUND_DOWN)
"""A conversion rate kept to 12 significant digits, rounded down: its float error (1/140 is
0.007142857142857143) must not push a volume that risks exactly the money asked one step
down; what it leaves out is less than 1e-11 of the loss."""

LossPerLot = Callable[[Decimal, Decimal], Decimal | None]
"""Money one lot loses from `entry` to `stop` in the account currency (None: no quote
converts it yet)."""


def live_loss(
    info: SymbolInfo,
    currency: str,
    symbols: Iterable[SymbolInfo],
    quotes: Mapping[str, Tick],
) -> LossPerLot:
    """The loss of one lot at the stop as MT5 books it, from live `quotes`: e.g. a USDJPY
    buy's 1.00 move loses 100,000 JPY / the stop price in USD, not at the entry's rate."""
    table = symbols if isinstance(symbols, SymbolTable) else SymbolTable(symbols)

    def loss(entry: Decimal, stop: Decimal) -> Decimal | None:
        move = abs(entry - stop)  # in the profit currency, one lot:
        if info.trade_calc_mode == mt5.SYMBOL_CALC_MODE_FUTURES and info.trade_tick_size > 0:
            lost = move * dec(info.trade_tick_value) / dec(info.trade_tick_size)
        else:
            lost = move * dec(info.trade_contract_size)
        try:  # the rate that converts a loss, through the traded symbol at the stop
            rate = -to_account(
                -1.0, info.currency_profit, currency, table, quotes, trade=(info.name, float(stop))
            )
        except PricingError:
            return None
        return lost * RATE_DIGITS.create_decimal(repr(rate))

    return loss


def _per_lot(
    info: SymbolInfo, entry: Decimal, stop: Decimal, loss_per_lot: LossPerLot | None
) -> Decimal | None:
    """One lot's loss at the stop: live when it can be, else from the published loss tick
    value (None when there is none either)."""
    if loss_per_lot is not None:
        live = loss_per_lot(entry, stop)
        if live is not None and live > 0:
            return live
    tick_value = dec(info.trade_tick_value_loss) or dec(info.trade_tick_value)
    if tick_value <= 0:
        return None
    return abs(entry - stop) / tick_size(info) * tick_value


def risked_money(mode: SizingMode, risk: Decimal, balance: Decimal) -> Decimal:
    return balance * risk / 100 if mode is SizingMode.RISK_PERCENT else risk


def size(
    signal: Signal,
    config: TradingConfig,
    info: SymbolInfo,
    entry: Decimal,
    stop_loss: Decimal | None,
    balance: Decimal | None,
    loss_per_lot: LossPerLot | None = None,
) -> Decimal:
    """Lots for an opening order, on the volume step and within the symbol's limits.

    Risk sizing loses at most `risk` (percent of balance or money) if the stop loss is hit:
    lots = money / one lot's loss at the stop, floored onto the volume step.
    """
    mode = signal.sizing or (SizingMode.FIXED if signal.volume else config.sizing)
    if mode is SizingMode.FIXED:
        return check_volume(signal.volume or config.lot_size, info)
    if not stop_loss:
        raise Refusal("stop_loss", f"is required to size by {mode}")
    if balance is None:
        raise Refusal("sizing", "no account balance known yet for risk sizing; retry shortly")
    per_lot = _per_lot(info, entry, stop_loss, loss_per_lot)
    if per_lot is None:
        raise Refusal("sizing", f"{info.name} has no tick value to size by risk")
    money = risked_money(mode, signal.risk or config.risk_per_trade, balance)
    if money > balance:
        raise Refusal("risk", f"risking {money:.2f} is more than the balance {balance:.2f}")
    lots = floor_volume(money / per_lot, info)
    if lots < dec(info.volume_min):
        raise Refusal(
            "risk", f"risking {money:.2f} at this stop is below volume_min {info.volume_min}"
        )
    return check_volume(min(lots, dec(info.volume_max)), info)


def check_caps(
    volume: Decimal,
    entry: Decimal,
    stop_loss: Decimal | None,
    config: TradingConfig,
    info: SymbolInfo,
    balance: Decimal | None,
    loss_per_lot: LossPerLot | None = None,
) -> None:
    """The operator's caps on one order, whatever sized it (the signal's lots, the fixed
    lot size or risk sizing): `max_volume` lots, and `max_risk_percent` of the balance lost
    at the stop loss (so an order without a stop loss is refused while it is set)."""
    if config.max_volume is not None and volume > config.max_volume:
        raise Refusal(
            "max_volume", f"{volume} lots is more than the {config.max_volume} one order may have"
        )
    cap = config.max_risk_percent
    if cap is None:
        return
    if not stop_loss:
        raise Refusal("max_risk_percent", f"an order without a stop loss risks more than {cap}%")
    if balance is None or balance <= 0:
        raise Refusal("max_risk_percent", "no positive account balance known yet; retry shortly")
    per_lot = _per_lot(info, entry, stop_loss, loss_per_lot)
    if per_lot is None:
        raise Refusal("max_risk_percent", f"{info.name} has no tick value to measure risk by")
    money = volume * per_lot
    percent = money / balance * 100
    if percent > cap:
        raise Refusal(
            "max_risk_percent",
            f"risking {money:.2f} at the stop loss is {percent:.2f}% of the balance "
            f"{balance:.2f}, more than {cap}%",
        )
