"""`python -m bench [--smoke] [NAME...]`: run every benchmark (or the named ones) in turn;
each prints its table and writes its JSON with the machine facts.

`--smoke` runs each with tiny sizes (seconds, figures not judged, JSON in a temporary
folder or `$BENCH_RESULTS`), goes on after a failure, and exits non-zero if any failed:
it keeps the benchmarks working (tests/bench/test_smoke.py runs it under `make test`).
"""

from __future__ import annotations

import argparse
import os
import pkgutil
import signal
import subprocess
import sys
import time
from pathlib import Path

SMOKE_LIMIT = 240.0  # seconds one benchmark may take in a smoke run


def benchmarks() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def run(command: list[str], env: dict[str, str] | None, limit: float | None) -> int:
    """Run a benchmark; past `limit` seconds, interrupt it as Ctrl-C does (it stops the
    servers and workers it started), then kill it if it still runs 30 s later."""
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        print(f"still running after {limit:.0f} s: interrupted", flush=True)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        return -int(signal.SIGINT)
    except BaseException:
        process.send_signal(signal.SIGINT)
        process.wait()
        raise


def main() -> int:
    known = benchmarks()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"some of: {', '.join(known)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, every one, seconds")
    args = parser.parse_args()
    chosen = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or known
    unknown = [n for n in chosen if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}")
    env = {**os.environ, "BENCH_SMOKE": "1"} if args.smoke else None
    failed = []
    for module in chosen:
        print(f"\n== {module}{' (smoke)' if args.smoke else ''} ==", flush=True)
        command = [sys.executable, "-m", f"bench.{module}", *(["--smoke"] if args.smoke else [])]
        started = time.monotonic()
        code = run(command, env, SMOKE_LIMIT if args.smoke else None)
        print(f"== {module}: exit {code} after {time.monotonic() - started:.1f} s ==", flush=True)
        if code:
            failed.append(module)
            if not args.smoke:
                return code
    if failed:
        print(f"\nfailed: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
