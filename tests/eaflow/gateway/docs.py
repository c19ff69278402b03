"""The examples of docs/alerts.md: alert bodies and what each must become."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

DOC = Path(__file__).parents[3] / "docs" / "alerts.md"
BLOCK = re.compile(r"^```(\w*)([^\n]*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Example:
    line: int
    body: str
    json: bool
    status: int
    field: str | None
    signals: tuple[dict[str, Any], ...]

    @property
    def id(self) -> str:
        return f"alerts.md:{self.line}"


def examples(text: str | None = None) -> list[Example]:
    """Every `alert` block, with the `signal` block that follows it (if any)."""
    text = DOC.read_text() if text is None else text
    blocks = [(m.start(), m.group(1), m.group(2).split(), m.group(3)) for m in BLOCK.finditer(text)]
    found = []
    for n, (start, lang, info, body) in enumerate(blocks):
        if "alert" not in info:
            continue
        attrs = dict(item.split("=", 1) for item in info if "=" in item)
        expected: tuple[dict[str, Any], ...] = ()
        if n + 1 < len(blocks) and "signal" in blocks[n + 1][2]:
            parsed = orjson.loads(blocks[n + 1][3])
            expected = tuple(parsed if isinstance(parsed, list) else [parsed])
        found.append(
            Example(
                line=text.count("\n", 0, start) + 1,
                body=body.rstrip("\n"),
                json=lang == "json",
                status=int(attrs.get("expect", "200")),
                field=attrs.get("field"),
                signals=expected,
            )
        )
    return found


def payload_table(text: str | None = None) -> dict[str, tuple[int, str]]:
    """`| tv007 | 200 | field | why |` rows of the real-world payload table."""
    text = DOC.read_text() if text is None else text
    rows = re.findall(r"^\| (tv\d+) \| (\d{3}) \|([^|]*)\|", text, re.MULTILINE)
    return {row[0]: (int(row[1]), row[2].strip()) for row in rows}
