"""`eaflow replay` as an operator runs it: a JSON diff of a recorded range, a copy into a
debug stream, and refusals that name the option at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import redis

from tests.e2e.conftest import PREFIX
from tests.e2e.workers import eaflow
from tests.eaflow.replay.recording import RESULTS, SIGNALS, record


async def test_replay_prints_a_json_diff_and_copies_into_debug_streams(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    await record(redis_url, tmp_path)
    ids: Any = redis_client.xrange(f"{PREFIX}rtss")
    first = ids[0][0].decode()
    done = eaflow(
        "replay",
        "rtss",
        "--from",
        first,
        "--json",
        "--redis",
        redis_url,
        "--data-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    report = orjson.loads(done.stdout)
    assert report["entries"] == len(SIGNALS)
    assert report["from"] == first and report["to"] == "+"
    assert report["summary"] == {"same": RESULTS, "changed": 0, "new": 0, "missing": 0}
    assert {r["verdict"] for r in report["results"]} == {"same"}
    assert report["results"][0]["replayed"]["status"] == "filled"

    table = eaflow("replay", "rtss", "--redis", redis_url, env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    assert f"{RESULTS} same, 0 changed, 0 new, 0 missing" in table.stdout

    copied = eaflow("replay", "rtss", "--into", "debug:rtss", "--json", "--redis", redis_url)
    assert copied.returncode == 0, copied.stderr
    assert orjson.loads(copied.stdout)["copied"] == len(SIGNALS)
    assert redis_client.xlen(f"{PREFIX}debug:rtss") == len(SIGNALS)


def test_mistakes_are_refused_naming_the_option(redis_url: str) -> None:
    bad_time = eaflow("replay", "rtss", "--from", "soon", "--redis", redis_url)
    assert bad_time.returncode == 2
    assert "--from: 'soon' is neither a stream id" in bad_time.stderr
    live = eaflow("replay", "rtss", "--into", "rtrs", "--redis", redis_url)
    assert live.returncode == 2
    assert "must name a debug stream" in live.stderr
    missing = eaflow("replay", "rtss", "--redis", redis_url)
    assert missing.returncode == 2
    assert "'rtss' is not a stream" in missing.stderr
