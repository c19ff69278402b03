"""Processors and sinks from other installed packages, found through entry points.

A package registers a `Plugin` under the entry point group `eaflow.processors` or
`eaflow.sinks`; its entry point name becomes a worker name, so `eaflow worker NAME` runs it
like a built-in. Example, in the plugin's pyproject.toml::

    [project.entry-points."eaflow.processors"]
    trading-hours = "eaflow_trading_hours:plugin"
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Literal

import structlog

from eaflow.install.pipeline import Installer, Pipeline

log = structlog.get_logger(__name__)

GROUPS = {"eaflow.processors": "processor", "eaflow.sinks": "sink"}
START_IDS = {"new": "$", "all": "0"}
DEFAULT_START = {"processor": "new", "sink": "all"}
"""Where a plugin's consumer groups start when first created, unless the plugin says: a
processor acts (a notifier must not resend the history), a sink records what it finds."""


@dataclass(frozen=True)
class Plugin:
    """What an entry point names: how to install the plugin into a pipeline, and the
    streams it reads and writes (names without the prefix, as in `eaflow status`).

    `install` is an async function of the pipeline, like the built-in installers in
    eaflow/install/: it adds agents, timers and tasks to `pipeline.app`.
    """

    install: Installer
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    description: str = ""
    start: Literal["new", "all"] | None = None
    """Where its consumer groups start when first created: `new` entries only (the default
    for processors) or `all` the stream holds (the default for sinks). An agent's own
    `start_id` wins; a group that exists keeps its position."""

    def __post_init__(self) -> None:
        if self.start is not None and self.start not in START_IDS:
            raise ValueError(f"start: must be 'new' or 'all', got {self.start!r}")


@dataclass(frozen=True)
class Found:
    """One discovered entry point: the plugin, or why it could not be loaded."""

    name: str
    kind: str  # "processor" or "sink"
    target: str  # "package.module:attribute"
    package: str  # "distribution version"
    plugin: Plugin | None
    error: str | None = None


def load(entry: EntryPoint, kind: str) -> Found:
    """Import one entry point; a broken plugin becomes an error, never a crash."""
    dist = entry.dist
    package = f"{dist.name} {dist.version}" if dist is not None else "?"
    try:
        loaded = entry.load()
    except Exception as error:
        return Found(entry.name, kind, entry.value, package, None, f"import failed: {error}")
    if not isinstance(loaded, Plugin):
        return Found(
            entry.name,
            kind,
            entry.value,
            package,
            None,
            f"must name an eaflow.plugins.Plugin, got {type(loaded).__name__}",
        )
    return Found(entry.name, kind, entry.value, package, loaded)


def starting(plugin: Plugin, kind: str) -> Installer:
    """The plugin's installer, its agents' groups created at its start position."""
    start_id = START_IDS[plugin.start or DEFAULT_START[kind]]

    async def install(pipeline: Pipeline) -> None:
        app = pipeline.app
        settings = app.settings
        app.settings = settings.model_copy(update={"start_id": start_id})
        try:
            await plugin.install(pipeline)
        finally:
            app.settings = settings

    return install


async def groups_of(installer: Installer, pipeline: Pipeline) -> list[tuple[str, str]]:
    """(stream key, group) of every agent `installer` adds to `pipeline` (not started)."""
    before = len(pipeline.app.agents)
    await installer(pipeline)
    added = pipeline.app.agents[before:]
    return sorted({(key, agent.group) for agent in added for key in agent.streams})


async def plugin_groups(
    pipeline: Pipeline, found: Iterable[Found] | None = None
) -> dict[tuple[str, str], Found]:
    """Which plugin each (stream key, group) belongs to, for the loadable plugins of
    `found` (default: the installed ones), installed into `pipeline`, which must never
    start; a plugin whose installer fails is logged and left out."""
    owners: dict[tuple[str, str], Found] = {}
    for item in discover() if found is None else found:
        if item.plugin is None:
            continue
        try:
            for key_group in await groups_of(starting(item.plugin, item.kind), pipeline):
                owners[key_group] = item
        except Exception as error:
            log.warning("plugin_install_failed", plugin=item.name, error=str(error))
    return owners


def plugin_names() -> list[str]:
    """The names of the installed plugins, from their entry points alone (nothing imported)."""
    return sorted({e.name for group in GROUPS for e in entry_points(group=group)})


def discover(entries: Iterable[tuple[EntryPoint, str]] | None = None) -> list[Found]:
    """Every plugin of both groups, sorted by name (`entries` replaces the installed ones)."""
    if entries is None:
        entries = [(e, kind) for group, kind in GROUPS.items() for e in entry_points(group=group)]
    return sorted((load(entry, kind) for entry, kind in entries), key=lambda f: f.name)


def with_plugins(
    builtins: dict[str, Installer], found: Iterable[Found] | None = None
) -> dict[str, Installer]:
    """The built-in installers plus every loadable plugin (`found`, default: the installed
    ones); a built-in name always wins, and a broken plugin is logged and left out."""
    merged = dict(builtins)
    for item in discover() if found is None else found:
        if item.plugin is None:
            log.warning("plugin_unusable", plugin=item.name, error=item.error)
        elif item.name in merged:
            log.warning("plugin_shadowed", plugin=item.name, target=item.target)
        else:
            merged[item.name] = starting(item.plugin, item.kind)
    return merged
