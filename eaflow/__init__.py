"""eaflow: TradingView signals to MetaTrader 5 orders, as streams over Redis."""

__version__ = "0.2.0"
