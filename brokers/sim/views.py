"""The records a simulated terminal shows: account, terminal, and orders at the latest price."""

from __future__ import annotations

from brokers.mt5 import constants as mt5
from brokers.mt5.records import AccountInfo, TerminalInfo, TradeOrder
from brokers.sim.book import Account, Summary
from brokers.sim.matching import is_buy
from model.tick import Tick

COMPANY = "eaflow"


def account_info(account: Account, money: Summary, server: str) -> AccountInfo:
    """`account_info()`: a demo account with its margin call and stop-out levels (MetaQuotes-
    Demo's 50 % / 30 % unless opened with others)."""
    hedging = account.hedging
    return AccountInfo(
        login=account.login,
        trade_mode=mt5.ACCOUNT_TRADE_MODE_DEMO,
        leverage=account.leverage,
        limit_orders=200,
        margin_so_mode=account.margin_so_mode,
        trade_allowed=True,
        trade_expert=True,
        margin_mode=mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING
        if hedging
        else mt5.ACCOUNT_MARGIN_MODE_RETAIL_NETTING,
        currency_digits=2,
        fifo_close=False,
        balance=money.balance,
        credit=0.0,
        profit=money.profit,
        equity=money.equity,
        margin=money.margin,
        margin_free=money.margin_free,
        margin_level=money.margin_level,
        margin_so_call=account.margin_so_call,
        margin_so_so=account.margin_so_so,
        margin_initial=0.0,
        margin_maintenance=0.0,
        assets=0.0,
        liabilities=0.0,
        commission_blocked=0.0,
        name=account.name,
        server=server,
        currency=account.currency,
        company=COMPANY,
    )


def terminal_info(connected: bool, build: int) -> TerminalInfo:
    """`terminal_info()`: algo trading allowed; `connected` follows SimServer.set_connected."""
    return TerminalInfo(
        community_account=False,
        community_connection=False,
        connected=connected,
        dlls_allowed=False,
        trade_allowed=True,
        tradeapi_disabled=False,
        email_enabled=False,
        ftp_enabled=False,
        notifications_enabled=False,
        mqid=False,
        build=build,
        maxbars=100_000,
        codepage=0,
        ping_last=0,
        community_balance=0.0,
        retransmission=0.0,
        company=COMPANY,
        name="eaflow simulated terminal",
        language="English",
        path="",
        data_path="",
        commondata_path="",
    )


def order_now(order: TradeOrder, tick: Tick | None) -> TradeOrder:
    """A pending order with `price_current` at the latest tick (ask for buys, bid for sells)."""
    if tick is None:
        return order
    return order._replace(price_current=tick.ask if is_buy(order.type) else tick.bid)
