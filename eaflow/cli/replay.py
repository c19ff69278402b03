"""`eaflow replay STREAM`: re-run a recorded range in a sandbox and diff the results, or
copy the range into a debug stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from eaflow.cli.options import (
    DataDirOption,
    PrefixOption,
    RedisOption,
    require_redis,
    settings_from,
)
from eaflow.replay.bounds import check_order, stream_bound
from eaflow.replay.diff import DEFAULT_TOLERANCE, Row, summary
from eaflow.replay.run import Progress as OnProgress
from eaflow.replay.run import Report, copy_into, dry_run, result_dict
from eaflow.replay.sandbox import clean_sandboxes


@contextmanager
def progress_bar(label: str, quiet: bool) -> Iterator[OnProgress]:
    """A bar on stderr for long replays; nothing when quiet or not on a terminal."""
    console = Console(stderr=True)
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=quiet or not console.is_terminal,
    )
    task = bar.add_task(label, total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield update


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "stream": report.stream,
        "from": report.start,
        "price_tolerance": str(report.tolerance),
        "to": report.end,
        "entries": report.entries,
        "instances": report.instances,
        "recorded_in": report.recorded_in,
        "summary": summary(report.rows),
        "errors": [{"id": entry_id, "error": error} for entry_id, error in report.errors],
        "results": [
            {
                "result_id": row.result_id,
                "signal_id": row.signal_id,
                "instance": row.instance,
                "verdict": row.verdict,
                "changes": {k: {"recorded": a, "replayed": b} for k, (a, b) in row.changes.items()},
                "deviations": {k: str(v) for k, v in row.deviations.items()},
                "recorded": result_dict(row.recorded),
                "replayed": result_dict(row.replayed),
            }
            for row in report.rows
        ],
    }


def _change(row: Row, name: str) -> str:
    """`price: 1.1 → 1.2 (+0.1)`: a price's deviation beside its two values."""
    before, after = row.changes[name]
    deviation = row.deviations.get(name)
    return f"{name}: {before} → {after}" + ("" if deviation is None else f" ({deviation:+})")


def print_report(report: Report, show_all: bool) -> None:
    console = Console()
    table = Table("result", "instance", "verdict", "what differs (recorded → replayed)")
    for row in report.rows:
        if row.verdict == "same" and not show_all:
            continue
        result = row.replayed or row.recorded
        what = "; ".join(_change(row, name) for name in row.changes)
        if row.verdict in ("new", "missing", "same") and result is not None:
            what = f"{result.status} {result.retcode_name or result.field or ''}".strip()
        table.add_row(row.result_id, row.instance, row.verdict, what)
    for entry_id, error in report.errors:
        table.add_row(entry_id, "", "error", error)
    if table.row_count:
        console.print(table)
    counts = ", ".join(f"{n} {verdict}" for verdict, n in summary(report.rows).items())
    console.print(
        f"{report.stream} {report.start}..{report.end}: {report.entries} entries replayed on "
        f"{len(report.instances)} simulated instances; results: {counts} "
        f"(prices within {report.tolerance} % count as the same)"
        + (f"; {len(report.errors)} entries failed" if report.errors else "")
    )


RATE = 60
"""Entries a dry run replays per second, about (measured on a recorded day of 306 signals)."""


def announce(stream: str, entries: int) -> None:
    """Say on stderr, before it starts, how many entries the replay runs and for how long."""
    seconds = entries / RATE
    took = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{max(1, round(seconds))} s"
    typer.echo(
        f"replaying {entries} entries of {stream}: about {took} at ~{RATE} entries/s", err=True
    )


def replay(
    stream: Annotated[
        str | None,
        typer.Argument(
            help="rtss or orders:{instance} (or their dlq:, or a debug: copy of one) to "
            "re-run; any to copy. Not with --clean.",
            show_default=False,
        ),
    ] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First entry: stream id or time (UTC).")
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="Last entry: stream id, or time including the whole unit written "
            "(12:00 the whole minute, a date the whole day).",
        ),
    ] = None,
    into: Annotated[
        str | None,
        typer.Option(
            "--into", help="Copy the range into debug:NAME instead (refused if it exists)."
        ),
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="--into: delete the debug stream first.")
    ] = False,
    price_tolerance: Annotated[
        Decimal,
        typer.Option(
            "--price-tolerance",
            min=0,
            metavar="PERCENT",
            help="Replayed prices this close to the recorded ones (percent of the price) "
            "count as the same; beyond it a result with the same outcome shows as `price`.",
        ),
    ] = DEFAULT_TOLERANCE,
    json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="List unchanged results too.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Refuse ranges with more entries.")] = 100_000,
    keep: Annotated[
        bool,
        typer.Option(help="Keep the sandbox keys to inspect them (remove them with --clean)."),
    ] = False,
    clean: Annotated[
        bool,
        typer.Option("--clean", help="Delete every kept sandbox (eaflow-replay:*) and exit."),
    ] = False,
    data_dir: DataDirOption = None,
    redis: RedisOption = None,
    prefix: PrefixOption = "ea:",
) -> None:
    """Re-run a range of signals (router → executor) or orders (executor) on fresh simulated
    accounts in a throwaway key prefix, and show how the results differ from the recorded
    ones; or, with --into, copy the range into a debug stream. Live streams, accounts and
    brokers are never touched."""
    settings = settings_from(redis, prefix)
    url = require_redis(settings)
    if clean:
        removed = asyncio.run(clean_sandboxes(url))
        keys = sum(removed.values())
        typer.echo(f"removed {len(removed)} sandboxes ({keys} keys)")
        return
    if stream is None:
        raise typer.BadParameter("give the STREAM to replay (or --clean)", param_hint="STREAM")
    try:
        start = stream_bound(from_, "--from")
        end = stream_bound(to, "--to", end=True)
        check_order(start, end)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    try:
        if into is not None:
            with progress_bar(f"copying {stream} → {into}", json) as update:
                ids = asyncio.run(
                    copy_into(
                        url,
                        settings.prefix,
                        stream,
                        start,
                        end,
                        into,
                        limit=limit,
                        progress=update,
                        replace=replace,
                    )
                )
            if json:
                typer.echo(
                    orjson.dumps(
                        {
                            "stream": stream,
                            "into": into,
                            "copied": len(ids),
                            "first": ids[0] if ids else None,
                            "last": ids[-1] if ids else None,
                        }
                    ).decode()
                )
            else:
                Console().print(f"copied {len(ids)} entries of {stream} into {into}")
            return
        with progress_bar(f"replaying {stream}", json) as update:
            report = asyncio.run(
                dry_run(
                    url,
                    settings.prefix,
                    stream,
                    start,
                    end,
                    limit=limit,
                    data_dir=data_dir or settings.data_dir,
                    progress=update,
                    keep=keep,
                    tolerance=price_tolerance,
                    announce=lambda n: announce(stream, n),
                )
            )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    if json:
        typer.echo(orjson.dumps(report_dict(report)).decode())
    else:
        print_report(report, show_all)
    if keep:
        Console(stderr=True).print(f"sandbox kept under {report.sandbox}")


def register(app: typer.Typer) -> None:
    app.command()(replay)
