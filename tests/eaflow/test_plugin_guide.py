"""docs/plugins.md as a plugin author follows it: the fill-counter processor and its
pyproject.toml taken from the guide's text (so the guide cannot drift), installed as a
distribution with that entry point, its own test from the guide run by pytest, listed by
`eaflow plugins`, run by `eaflow worker` from new entries on, and its group deleted by
`eaflow plugins remove`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import orjson
import redis

from tests.eaflow.cli.test_worker import started
from tests.sinks.conftest import fill, rejection

ROOT = Path(__file__).parents[2]
GUIDE = ROOT / "docs" / "plugins.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", GUIDE.read_text(), re.DOTALL)


def install_from_guide(site: Path) -> None:
    """The guide's module and the entry point of its pyproject.toml, as an installed
    distribution in `site` (what `pip install` leaves: the module and a .dist-info)."""
    [module] = [b for b in blocks("python") if b.startswith('"""A processor plugin')]
    [project] = [tomllib.loads(b) for b in blocks("toml") if "eaflow-fill-counter" in b]
    (site / "eaflow_fill_counter.py").write_text(module)
    info = site / "eaflow_fill_counter-0.1.0.dist-info"
    info.mkdir()
    meta = project["project"]
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = [
        f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in entries.items())
        for group, entries in meta["entry-points"].items()
    ]
    (info / "entry_points.txt").write_text("\n".join(lines))


def eaflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eaflow", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


def groups(client: redis.Redis, key: str) -> set[str]:
    found: Any = client.xinfo_groups(key)
    return {g["name"].decode() if isinstance(g["name"], bytes) else g["name"] for g in found}


def test_the_guide_s_processor_installs_runs_and_is_removed(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_from_guide(site)
    env = {"PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}

    [guide_test] = [b for b in blocks("python") if b.startswith('"""The fill-counter plugin')]
    (tmp_path / "test_fill_counter.py").write_text(guide_test)
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout + tested.stderr

    listed = eaflow("plugins", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    [counter] = [p for p in orjson.loads(listed.stdout) if p["name"] == "fill-counter"]
    assert (counter["kind"], counter["start"], counter["error"]) == ("processor", "new", None)
    assert "fill-counter" in eaflow("worker", "--help", env={**env, "COLUMNS": "300"}).stdout

    rtrs = "ea:rtrs"
    redis_client.xadd(rtrs, {"d": fill(1).model_dump_json()})  # history: not counted
    args = ["worker", "fill-counter", "--redis", redis_url, "--data-dir", str(tmp_path)]
    with started(args, tmp_path, until="fill-counter: rtrs → ea:fills", env=env):
        for result in (fill(2), rejection(3), fill(4, instance="demo-2"), fill(5)):
            redis_client.xadd(rtrs, {"d": result.model_dump_json()})
        deadline = time.monotonic() + 30
        expected = {b"demo-1": b"1", b"demo-2": b"1"}
        while redis_client.hgetall("ea:fills") != {**expected, b"demo-1": b"2"}:
            assert time.monotonic() < deadline, redis_client.hgetall("ea:fills")
            time.sleep(0.05)
    assert "fill-counter" in groups(redis_client, rtrs)
    status = eaflow("status", "--redis", redis_url, env={**env, "COLUMNS": "300"})
    [reader] = [line for line in status.stdout.splitlines() if line.startswith("│ fill-counter ")]
    assert "│ processor (plugin fill-counter) " in reader, status.stdout

    removed = eaflow("plugins", "remove", "fill-counter", "--redis", redis_url, env=env)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.splitlines() == [
        "ea:rtrs: group fill-counter deleted",
        "fill-counter: 1 consumer groups deleted",
    ]
    assert "fill-counter" not in groups(redis_client, rtrs)
    built_in = eaflow("plugins", "remove", "rtrs", "--redis", redis_url, env=env)
    assert built_in.returncode == 2 and "'rtrs' is a built-in worker" in built_in.stderr
    gone = eaflow("plugins", "remove", "no-such", "--redis", redis_url, env=env)
    assert gone.returncode == 2 and "'no-such': not installed" in gone.stderr
