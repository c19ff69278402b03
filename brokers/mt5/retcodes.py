"""MT5 trade-server return codes: names, texts and whether retrying the same request can help.

Read from `brokers/mt5/data/mt5_trade_retcodes.csv` (every code the MetaTrader5 package
defines). Example: `retcode(10004)` is `Retcode(10004, "TRADE_RETCODE_REQUOTE", "REQUOTE",
"Requote", "Requote", retryable=True)`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from importlib.resources import files
from types import MappingProxyType
from typing import NamedTuple

# Transient conditions: the same request may succeed a moment later.
RETRYABLE = frozenset({10004, 10011, 10012, 10020, 10021, 10024, 10028, 10031})


class Retcode(NamedTuple):
    """One return code; `comment` is the text a trade server puts in `result.comment`."""

    code: int
    name: str
    short: str
    description: str
    comment: str
    retryable: bool


def _load() -> Mapping[int, Retcode]:
    text = files("brokers.mt5").joinpath("data/mt5_trade_retcodes.csv").read_text("utf-8")
    table: dict[int, Retcode] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = int(row["code"])
        table[code] = Retcode(
            code=code,
            name=row["constant"],
            short=row["short_name"],
            description=row["description"],
            comment=row["observed_server_comment"] or row["description"],
            retryable=code in RETRYABLE,
        )
    return MappingProxyType(table)


RETCODES: Mapping[int, Retcode] = _load()


def retcode(code: int) -> Retcode:
    """The known code, or `UNKNOWN_<code>` (not retryable) for a code MT5 does not define."""
    known = RETCODES.get(code)
    if known is not None:
        return known
    name = f"UNKNOWN_{code}"
    return Retcode(code, name, name, f"Unknown return code {code}", name, retryable=False)
