"""Entry point of the `eaflow` console script: every module here with `register` adds commands."""

from __future__ import annotations

import importlib
import pkgutil

import typer

import eaflow.cli

app = typer.Typer(
    name="eaflow",
    help="TradingView signals to MetaTrader 5 orders on many accounts, over Redis Streams.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _register_commands() -> None:
    for module in pkgutil.iter_modules(eaflow.cli.__path__):
        if module.name in ("main", "options"):
            continue
        loaded = importlib.import_module(f"eaflow.cli.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main() -> None:
    app()
