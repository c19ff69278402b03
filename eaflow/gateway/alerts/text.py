"""Text alert bodies: PineConnector-style command lines, or KEY=VALUE lines.

A command line is `source,command,symbol,key=value,...` (the source may be left out:
`buy,EURUSD,risk=1,secret=...`); one line per signal. KEY=VALUE lines (or `;`-separated
pairs) are one alert, read with the same names as a JSON object.
"""

from __future__ import annotations

import re

from eaflow.gateway.alerts.commands import NEEDS_SYMBOL, NO_SYMBOL, is_command
from eaflow.gateway.alerts.draft import CANONICAL, LEGS, Draft, normalise
from eaflow.gateway.alerts.values import AlertError, text, word

FIELDS = re.compile(r'(?:[^,"]|"[^"]*")+')
KEY = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,40}")
PARAMETERS = frozenset(
    {
        "secret",
        "volume",
        "risk",
        "risk_money",
        "risk_percent",
        "price",
        "stop_limit",
        "comment",
        "instances",
        "group",
        "order_id",
        "signal_id",
        "ticket",
        "stop_loss",
        "take_profit",
        "strategy",
        "price_unit",
        "expiration",
        "type_time",
        "percent",
        "be_trigger",
        "be_offset",
        "trail_trigger",
        "trail_distance",
        "trail_step",
        "trail_unit",
        "atr",
        "atr_multiplier",
        "atr_trigger",
        "atr_settings",
        "spread",
        "min_balance",
        "min_equity",
        "min_margin_free",
        "min_margin_level",
        *(f"tp{n}" for n in LEGS),
        *(f"tp{n}_share" for n in LEGS),
    }
)
NOT_UNDERSTOOD = (
    "is not an alert eaflow understands: send JSON, a command line "
    "`source,command,symbol,key=value,...` or KEY=VALUE lines (see docs/alerts.md)"
)


def unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def is_command_line(line: str) -> bool:
    fields = [f.strip() for f in FIELDS.findall(line)][:2]
    return any(is_command(re.sub(r"[\s_\-]+", "", f).lower()) for f in fields if "=" not in f)


def command_draft(line: str, where: str) -> Draft:
    fields = [f.strip() for f in FIELDS.findall(line)]
    draft = Draft(text_command=True)
    first = word(f"{where}command", fields[0])
    if not is_command(first):
        draft.put("source", "source", text(f"{where}source", fields.pop(0)))
    command = word(f"{where}command", fields.pop(0))
    draft.put("command", "command", command)
    if fields and "=" not in fields[0]:
        symbol = fields.pop(0)
        if command in NO_SYMBOL and word("symbol", symbol) not in (command, "all", "*"):
            raise AlertError(f"{where}symbol", f"'{command}' takes no symbol")
        if command not in NO_SYMBOL:
            draft.put("symbol", "symbol", symbol)
    elif command in NEEDS_SYMBOL:
        raise AlertError(f"{where}symbol", f"'{command}' needs a symbol as its third field")
    for item in fields:
        key, sep, value = item.partition("=")
        name = CANONICAL.get(normalise(key)) if sep else None
        if name is None or name.partition(":")[0] not in PARAMETERS:
            known = (
                "risk, sl, tp, price, comment, strategy, betrigger, trdist, spread, accfilter, "
                "expiry, percent, tp1, secret, vol_lots, ..."
            )
            raise AlertError(
                f"{where}{key.strip() or item}",
                f"unknown parameter (known: {known}; see docs/alerts.md)",
            )
        draft.put(name, key.strip(), unquote(value))
    return draft


def pairs_draft(body: str) -> Draft:
    draft = Draft()
    for piece in re.split(r"[;\n]", body):
        if not piece.strip():
            continue
        key, _, value = piece.partition("=")
        if not KEY.fullmatch(key.strip()):
            raise AlertError("body", NOT_UNDERSTOOD, 400)
        draft.add((key.strip(),), unquote(value))
    return draft


def text_drafts(body: str, max_signals: int) -> list[Draft]:
    lines = [line.strip() for line in body.replace("\r\n", "\n").split("\n") if line.strip()]
    if not lines:
        raise AlertError("body", "is empty", 400)
    if all(is_command_line(line) for line in lines):
        if len(lines) > max_signals:
            raise AlertError("body", f"holds {len(lines)} commands; at most {max_signals}")
        prefix = len(lines) > 1
        return [command_draft(line, f"[{n}]." if prefix else "") for n, line in enumerate(lines)]
    pieces = [p for p in re.split(r"[;\n]", body) if p.strip()]
    if all("=" in p for p in pieces):
        return [pairs_draft(body.replace("\r\n", "\n"))]
    raise AlertError("body", NOT_UNDERSTOOD, 400)
