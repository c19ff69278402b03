"""Errors every layer may raise and the wiring may catch, named once."""

from __future__ import annotations


class MissingExtra(RuntimeError):
    """An optional dependency is not installed; the message says how to install it
    (`pip install 'eaflow[chdb]'`), so a user sees a hint instead of a traceback."""
