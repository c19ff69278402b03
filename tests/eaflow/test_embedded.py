"""The embedded Redis keeps the alert sources' secrets in files only their owner can read."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import redis

from eaflow.embedded import EmbeddedRedis

SECRET = "embedded-secret-0123456789abcdef"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def holding(directory: Path, text: bytes, timeout: float = 30) -> list[Path]:
    """The files under `directory` that hold `text`, once one does (the AOF is written
    within a second of the command, appendfsync everysec)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in directory.rglob("*") if p.is_file() and text in p.read_bytes()]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no file under {directory} holds {text!r} after {timeout}s")


def rewriting(client: redis.Redis) -> bool:
    info = client.info("persistence")
    return bool(info["aof_rewrite_in_progress"] or info["aof_rewrite_scheduled"])


def test_the_data_holding_secrets_is_private_to_its_owner(tmp_path: Path) -> None:
    """Attack (#15): another user of the machine reads the secrets out of the AOF."""
    data = tmp_path / "var" / "redis"
    data.parent.mkdir(mode=0o755)  # a data directory another user may enter
    embedded = EmbeddedRedis(data)
    client = redis.Redis.from_url(embedded.start())
    try:
        client.hset("ea:sources", "tradingview", f'{{"secret": "{SECRET}"}}')
        client.save()  # the snapshot holds it too
        client.bgrewriteaof()  # a rewrite writes a new AOF
        assert holding(data, SECRET.encode())
        deadline = time.monotonic() + 30
        while rewriting(client) and time.monotonic() < deadline:
            time.sleep(0.1)  # the rewritten AOF replaces the first one when done
        assert not rewriting(client)
        for path in [data, *data.rglob("*")]:
            assert mode(path) == (0o700 if path.is_dir() else 0o600), (path, oct(mode(path)))
    finally:
        client.close()
        embedded.stop()


def test_files_an_older_eaflow_left_readable_are_made_private(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    data.mkdir(mode=0o755)
    old = data / "appendonly.aof"
    old.write_bytes(b"")
    old.chmod(0o644)
    embedded = EmbeddedRedis(data)
    embedded.start()
    try:
        assert (mode(data), mode(old)) == (0o700, 0o600)
    finally:
        embedded.stop()
