"""What a worker process prints once started: the lines its installers added to
`pipeline.running`, and the data directory its files go to."""

from __future__ import annotations

from pathlib import Path

import structlog
from rich.console import Console

from eaflow.install.pipeline import Pipeline

log = structlog.get_logger(__name__)


def data_path(data_dir: Path) -> Path:
    """The data directory as an absolute path (a relative one is under the working directory)."""
    return data_dir if data_dir.is_absolute() else Path.cwd() / data_dir


def running_lines(pipeline: Pipeline) -> list[str]:
    return [*pipeline.running, f"data directory: {data_path(pipeline.settings.data_dir)}"]


async def print_running(pipeline: Pipeline) -> None:
    """Each line whole on stderr (a chart link must not be cut), as `eaflow run` shows them;
    with `--log-format json` a `running` log event each, so every line of the log is JSON."""
    if pipeline.settings.log_format == "json":
        for line in running_lines(pipeline):
            log.info("running", line=line)
        return
    console = Console(stderr=True)
    for line in running_lines(pipeline):
        console.print(line, highlight=False, soft_wrap=True)
