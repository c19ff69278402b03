"""docs/mt5.md stays true: its retcode table and URL parameters are the code's."""

from __future__ import annotations

import re
from pathlib import Path

from brokers.mt5.config import PARAMETERS
from brokers.mt5.retcodes import RETCODES
from model import Action
from processors.executor.outcome import SUCCESS_RETCODES, status_for

DOC = (Path(__file__).parents[3] / "docs" / "mt5.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| (\d{5}) \| (\w+) \| ([a-z /]+) \| (yes|no) \| (.+) \|$", re.MULTILINE)


def test_the_retcode_table_has_every_code_with_its_name_status_and_retry() -> None:
    rows = {
        int(code): (name, status, retried, meaning)
        for code, name, status, retried, meaning in ROW.findall(DOC)
    }
    assert set(rows) == set(RETCODES)
    for code, (name, status, retried, meaning) in rows.items():
        known = RETCODES[code]
        assert name == known.short, code
        assert (retried == "yes") == known.retryable, code
        if code in SUCCESS_RETCODES:
            expected = status_for(Action.OPEN, code, pending=code == 10008).value
            assert expected in status.split(" / "), code
        else:
            assert status == status_for(Action.OPEN, code).value, code
        assert len(meaning) > 20, code


def test_the_url_parameters_table_lists_what_the_parser_accepts() -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", DOC, re.MULTILINE))
    assert documented == PARAMETERS
