"""Order size from the signal or the configuration (fixed lots or money risked at the stop),
and the operator's caps on what one order may be."""

from __future__ import annotations

from decimal import Decimal

from brokers.mt5.records import SymbolInfo
from model import Signal, SizingMode, TradingConfig
from processors.rules import Refusal, check_volume, dec, floor_volume, tick_size


def risked_money(mode: SizingMode, risk: Decimal, balance: Decimal) -> Decimal:
    return balance * risk / 100 if mode is SizingMode.RISK_PERCENT else risk


def size(
    signal: Signal,
    config: TradingConfig,
    info: SymbolInfo,
    entry: Decimal,
    stop_loss: Decimal | None,
    balance: Decimal | None,
) -> Decimal:
    """Lots for an opening order, on the volume step and within the symbol's limits.

    Risk sizing loses `risk` (percent of balance or money) if the stop loss is hit:
    lots = money / (ticks to the stop × tick value per lot in the account currency).
    """
    mode = signal.sizing or (SizingMode.FIXED if signal.volume else config.sizing)
    if mode is SizingMode.FIXED:
        return check_volume(signal.volume or config.lot_size, info)
    if not stop_loss:
        raise Refusal("stop_loss", f"is required to size by {mode}")
    if balance is None:
        raise Refusal("sizing", "no account balance known yet for risk sizing; retry shortly")
    tick_value = dec(info.trade_tick_value)
    if tick_value <= 0:
        raise Refusal("sizing", f"{info.name} has no tick value to size by risk")
    money = risked_money(mode, signal.risk or config.risk_per_trade, balance)
    if money > balance:
        raise Refusal("risk", f"risking {money:.2f} is more than the balance {balance:.2f}")
    per_lot = abs(entry - stop_loss) / tick_size(info) * tick_value
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
    tick_value = dec(info.trade_tick_value)
    if tick_value <= 0:
        raise Refusal("max_risk_percent", f"{info.name} has no tick value to measure risk by")
    money = volume * abs(entry - stop_loss) / tick_size(info) * tick_value
    percent = money / balance * 100
    if percent > cap:
        raise Refusal(
            "max_risk_percent",
            f"risking {money:.2f} at the stop loss is {percent:.2f}% of the balance "
            f"{balance:.2f}, more than {cap}%",
        )
