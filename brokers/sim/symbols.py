"""The simulator's symbols: real MT5 `symbol_info` specs and the currency paths between them.

`default_symbols()` reads `data/symbols.json` (EURUSD, GBPUSD, USDJPY, EURJPY, EURCAD, NZDUSD,
XAUUSD; see data/SOURCES.md). A `SymbolTable` also answers which symbols convert one currency
into another, e.g. JPY → USD by dividing by USDJPY, CAD → USD through EURCAD then EURUSD.

Brokers name the same market differently (EURUSD, EURUSD.m, EURUSDpro): `broker_symbols(".m")`
is the table of a broker whose names end in ".m", each quoted by its base symbol's ticks
(`stream`), as a `sim://?suffix=.m` account sees it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from importlib.resources import files
from typing import NamedTuple

from brokers.mt5.records import SymbolInfo
from model.tick import Tick


class Leg(NamedTuple):
    """One conversion step: multiply by the symbol's price (base → quote) or divide by it."""

    symbol: str
    multiply: bool


class SymbolTable:
    """Symbol specs by name, with cached conversion paths; build one from edited specs in tests."""

    def __init__(self, infos: Iterable[SymbolInfo], streams: dict[str, str] | None = None) -> None:
        """`streams`: the base symbol whose `ticks:{symbol}` quotes a broker's name (a name
        missing from it is quoted by its own stream)."""
        self._infos = {info.name: info for info in infos}
        self._streams = streams or {}
        self._paths: dict[tuple[str, str], tuple[Leg, ...] | None] = {}
        self._quotes: dict[tuple[str, str], tuple[str, ...]] = {}

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._infos

    def __iter__(self) -> Iterator[SymbolInfo]:
        return iter(self._infos.values())

    def get(self, symbol: str) -> SymbolInfo | None:
        return self._infos.get(symbol)

    def stream(self, symbol: str) -> str:
        """The symbol whose tick stream quotes `symbol` (EURUSD for a broker's EURUSD.m)."""
        return self._streams.get(symbol, symbol)

    @property
    def streams(self) -> dict[str, str]:
        """The broker's names that another symbol's stream quotes, with that symbol."""
        return dict(self._streams)

    def path(self, src: str, dst: str) -> tuple[Leg, ...] | None:
        """Shortest chain of symbols converting `src` into `dst` (None when there is none)."""
        key = (src, dst)
        if key not in self._paths:
            self._paths[key] = self._search(src, dst)
        return self._paths[key]

    def quote_symbols(self, symbol: str, currency: str) -> tuple[str, ...]:
        """The symbol and every symbol whose price converts its profit and margin to `currency`."""
        key = (symbol, currency)
        if key not in self._quotes:
            info = self._infos.get(symbol)
            names = [symbol]
            for src in (info.currency_profit, info.currency_margin) if info else ():
                names += [leg.symbol for leg in self.path(src, currency) or ()]
            self._quotes[key] = tuple(dict.fromkeys(names))
        return self._quotes[key]

    def _search(self, src: str, dst: str) -> tuple[Leg, ...] | None:
        frontier: list[tuple[str, tuple[Leg, ...]]] = [(src, ())]
        seen = {src}
        while frontier:
            currency, legs = frontier.pop(0)
            if currency == dst:
                return legs
            for info in self._infos.values():
                for a, b, multiply in (
                    (info.currency_base, info.currency_profit, True),
                    (info.currency_profit, info.currency_base, False),
                ):
                    if a == currency and b not in seen:
                        seen.add(b)
                        frontier.append((b, (*legs, Leg(info.name, multiply))))
        return None


@cache
def default_symbols() -> SymbolTable:
    """The bundled specs of data/symbols.json."""
    text = files("brokers.sim").joinpath("data/symbols.json").read_text("utf-8")
    return SymbolTable(SymbolInfo(**spec) for spec in json.loads(text))


@cache
def broker_symbols(suffix: str = "") -> SymbolTable:
    """The bundled specs named as a broker whose symbol names end in `suffix` names them."""
    if not suffix:
        return default_symbols()
    infos = [i._replace(name=i.name + suffix, path=i.path + suffix) for i in default_symbols()]
    return SymbolTable(infos, {i.name: i.name[: -len(suffix)] for i in infos})


def with_quote(info: SymbolInfo, tick: Tick | None, tick_value: tuple[float, float]) -> SymbolInfo:
    """`info` as `symbol_info()` shows it: latest bid/ask/time/spread and tick values filled."""
    gain, loss = tick_value
    info = info._replace(
        trade_tick_value=gain, trade_tick_value_profit=gain, trade_tick_value_loss=loss
    )
    if tick is None:
        return info
    spread = round((tick.ask - tick.bid) / info.point)
    return info._replace(time=tick.time, bid=tick.bid, ask=tick.ask, last=tick.last, spread=spread)
