"""Brokers chosen by URL scheme: `sim://` (the simulator), `mt5://` (a real terminal)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from brokers.mt5.broker import Mt5Broker
from brokers.mt5.config import TerminalConfig
from brokers.sim.broker import SimBroker
from brokers.sim.market import SimMarket
from brokers.sim.symbols import SymbolTable, broker_symbols
from model.errors import MissingExtra
from streams.clients import async_client, sync_client


def broker_for(
    url: str,
    instance: str,
    login: int,
    redis_url: str,
    prefix: str,
    mt5: str | None = None,
    market: SimMarket | None = None,
) -> Mt5Broker:
    """A broker session for one instance. `sim://` accounts live in Redis, like a server's;
    an executor holds them in memory, sharing `market` (quotes, tickets) among its sessions.

    `mt5://host:port` reaches a terminal under Wine through mt5linux, plain `mt5://` the local
    MetaTrader5 package (Windows); `mt5` ("host:port", from `--mt5`) sends mt5:// instances
    to that mt5linux server instead. See brokers/mt5/config.py for the URL's parameters.

    `sim://?suffix=.m` is a simulated broker whose symbol names end in ".m" (EURUSD.m, quoted
    by EURUSD's ticks), as brokers name the same market differently.
    """
    parsed = urlparse(url)
    if parsed.scheme == "sim":
        client = sync_client(redis_url)
        symbols = sim_symbols(url)
        if market is not None:
            return SimBroker(client, prefix, login, instance, market, symbols=symbols)
        own = SimMarket(async_client(redis_url), sync_client(redis_url), prefix)
        return SimBroker(client, prefix, login, instance, own, owns_market=True, symbols=symbols)
    if parsed.scheme == "mt5":
        config = TerminalConfig.from_url(url, login, endpoint=mt5)
        kwargs = config.initialize_kwargs()
        if config.host is not None:
            from brokers.mt5.linux import LinuxTerminal

            module = LinuxTerminal(config.host, config.port, timeout=config.timeout / 1000 + 5)
            return Mt5Broker(module, name=instance, path=config.path, **kwargs)
        try:
            import MetaTrader5
        except ImportError as error:
            raise MissingExtra(
                "the MetaTrader5 package runs on Windows only: pip install 'eaflow[mt5]'; "
                "on Linux, run the terminal under Wine with mt5linux and use "
                "mt5://host:port or --mt5 host:port"
            ) from error
        return Mt5Broker(MetaTrader5, name=instance, path=config.path, **kwargs)
    raise ValueError(f"broker: unknown scheme {parsed.scheme!r} in {url!r} (use sim:// or mt5://)")


def sim_symbols(url: str) -> SymbolTable:
    """The symbols of a `sim://` URL: its `suffix` parameter names them as its broker does."""
    params = parse_qs(urlparse(url).query, keep_blank_values=True)
    unknown = sorted(set(params) - {"suffix"})
    if unknown:
        raise ValueError(f"broker: unknown sim:// parameter {unknown[0]!r} (known: suffix)")
    suffix = params.get("suffix", [""])[-1]
    if len(suffix) > 16 or not suffix.isprintable() or " " in suffix:
        raise ValueError(f"broker: sim:// suffix {suffix!r} must be up to 16 characters, no spaces")
    return broker_symbols(suffix)


def terminal_endpoint(url: str, login: int, mt5: str | None = None) -> str | None:
    """Which terminal an instance needs ("local MetaTrader5", "mt5linux host:port"); None for
    the simulator. One process talks to one terminal, so two instances must not share one."""
    if urlparse(url).scheme != "mt5":
        return None
    return TerminalConfig.from_url(url, login, endpoint=mt5).endpoint
