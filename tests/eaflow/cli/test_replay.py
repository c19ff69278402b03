"""`eaflow replay` as an operator runs it: a JSON diff of a recorded range, a copy into a
debug stream, and refusals that name the option at fault."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import redis

from model import Result
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
    assert report["summary"] == {"same": RESULTS, "changed": 0, "price": 0, "new": 0, "missing": 0}
    assert {r["verdict"] for r in report["results"]} == {"same"}
    assert report["results"][0]["replayed"]["status"] == "filled"

    table = eaflow("replay", "rtss", "--redis", redis_url, env={"COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    assert f"{RESULTS} same, 0 changed, 0 price, 0 new, 0 missing" in table.stdout

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


def _json(*args: str) -> dict[str, Any]:
    done = eaflow("replay", *args, "--json")
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = orjson.loads(done.stdout)
    return report


async def test_a_replay_debugs(redis_url: str, redis_client: redis.Redis, tmp_path: Path) -> None:
    """Only the range's instance is compared; prices are compared within a tolerance; `--to`
    with a time takes that whole second; `--into` refuses an existing stream unless told to
    replace it; a debug copy replays as its source; `--clean` removes the sandboxes `--keep`
    left."""
    recorded = await record(redis_url, tmp_path)
    at = ["--redis", redis_url, "--data-dir", str(tmp_path)]
    shared = [r for r in recorded if r.signal_id == "s4"]  # one order id on both instances
    assert {r.instance for r in shared} == {"demo-1", "demo-2"}
    demo1 = _json("orders:demo-1", *at)
    assert demo1["summary"]["missing"] == 0, demo1["results"]
    assert {r["instance"] for r in demo1["results"]} == {"demo-1"}
    assert demo1["summary"]["same"] == demo1["entries"] == 3  # s1, s4, s6 (s3: refused routing)

    entries: Any = redis_client.xrange(f"{PREFIX}rtss")
    first, last = entries[0][0].decode(), entries[-1][0].decode()
    second = datetime.fromtimestamp(int(last.split("-")[0]) // 1000, UTC)  # its ms cut off
    to = second.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _json("rtss", "--from", first, "--to", to, *at)["entries"] == len(SIGNALS)

    results: Any = redis_client.xrange(f"{PREFIX}rtrs")
    for entry_id, fields in results:  # the recording, a point off on s1, 1 % off on s2
        result = Result.model_validate_json(fields[b"d"])
        if result.signal_id in ("s1", "s2") and result.price is not None:
            off = Decimal("0.00001") if result.signal_id == "s1" else result.price / 100
            redis_client.xdel(f"{PREFIX}rtrs", entry_id)
            moved = result.model_copy(update={"price": result.price + off})
            redis_client.xadd(f"{PREFIX}rtrs", {"d": moved.model_dump_json()})
    report = _json("rtss", *at)
    verdicts = {r["signal_id"]: r["verdict"] for r in report["results"]}
    assert (verdicts["s1"], verdicts["s2"]) == ("same", "price")
    [s2] = [r for r in report["results"] if r["signal_id"] == "s2"]
    assert Decimal(s2["deviations"]["price"]) < 0 and set(s2["changes"]) == {"price"}
    assert report["summary"]["changed"] == 0 and report["price_tolerance"] == "0.01"
    strict = _json("rtss", "--price-tolerance", "0", *at)
    assert {r["signal_id"]: r["verdict"] for r in strict["results"]}["s1"] == "price"
    table = eaflow("replay", "rtss", *at, env={"COLUMNS": "300"})
    assert "s2@demo-2" in table.stdout and "price: " in table.stdout, table.stdout

    copied = eaflow("replay", "rtss", "--into", "debug:x", *at)
    assert copied.returncode == 0, copied.stderr
    again = eaflow("replay", "rtss", "--into", "debug:x", *at)
    assert again.returncode == 2 and "'debug:x' exists; add --replace" in again.stderr
    replaced = eaflow("replay", "rtss", "--into", "debug:x", "--replace", *at)
    assert replaced.returncode == 0, replaced.stderr
    assert redis_client.xlen(f"{PREFIX}debug:x") == len(SIGNALS)
    debug = eaflow("replay", "debug:x", "--json", *at)  # as the rtss entries it copies
    assert debug.returncode == 0, debug.stderr
    assert f"replaying {len(SIGNALS)} entries of debug:x: about 1 s" in debug.stderr
    assert orjson.loads(debug.stdout)["summary"] == report["summary"]

    kept = eaflow("replay", "rtss", "--keep", *at)
    assert kept.returncode == 0, kept.stderr
    assert redis_client.keys("eaflow-replay:*") != []
    cleaned = eaflow("replay", "--clean", "--redis", redis_url)
    assert cleaned.returncode == 0, cleaned.stderr
    assert cleaned.stdout.startswith("removed 1 sandboxes (")
    assert redis_client.keys("eaflow-replay:*") == []
    nothing = eaflow("replay", "--redis", redis_url)
    assert nothing.returncode == 2 and "give the STREAM to replay (or --clean)" in nothing.stderr
