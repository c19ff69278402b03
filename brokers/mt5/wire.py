"""The mt5linux wire format: calls sent as Python source, answers rebuilt as `MT5Api` types.

A call travels as the text `mt5.<function>(<repr of the arguments>)`, evaluated by the server,
since MT5's C functions refuse RPyC's proxied dicts; only plain values are allowed, so the text
is safe to evaluate. MT5 leaves an optional argument out rather than taking None, so arguments
that are None are left out (trailing positional ones too). The server sends the answer back as
plain data (`SERVER_SETUP`: named tuples as dicts, tuples as lists), and `decoder` rebuilds it
as the type the function's `MT5Api` signature names, so nothing depends on the MetaTrader5
package being importable on Linux.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from datetime import datetime
from typing import Any, Union, get_args, get_origin, get_type_hints

import numpy as np

# Defined once per connection on the server: named tuples become dicts, tuples lists.
SERVER_SETUP = """
import datetime
import MetaTrader5 as mt5

def _eaflow_plain(value):
    if hasattr(value, "_asdict"):
        return {k: _eaflow_plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (tuple, list)):
        return [_eaflow_plain(v) for v in value]
    return value
"""
SCALARS = (type(None), bool, int, float, str, datetime)

Decoder = Callable[[Any], Any]


def call_source(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The server-side expression for `mt5.<function>(*args, **kwargs)`, answered as plain data."""
    given = list(args)
    while given and given[-1] is None:
        given.pop()
    named = {k: v for k, v in kwargs.items() if v is not None}
    for value in (*given, *named.values()):
        _check_plain(value)
    text = ", ".join([*map(repr, given), *(f"{k}={v!r}" for k, v in named.items())])
    return f"_eaflow_plain(mt5.{function}({text}))"


def _check_plain(value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"request: key {key!r} must be a string")
            _check_plain(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_plain(item)
    elif not isinstance(value, SCALARS) or (isinstance(value, float) and not math.isfinite(value)):
        raise TypeError(f"argument {value!r} cannot be sent to an mt5linux server")


def decoder(kind: Any) -> Decoder:
    """How to rebuild an answer of type `kind` from plain data; raises TypeError for a type the
    wire cannot carry, so a new `MT5Api` function fails at import rather than at its first call."""
    origin, args = get_origin(kind), get_args(kind)
    if kind is bool:
        return bool  # MT5 answers False on failure; an unreachable server answers None
    if kind is None or kind is type(None):
        return lambda data: None
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"mt5linux: cannot decode the union {kind!r}")
        inner = decoder(present[0])
        return lambda data: None if data is None else inner(data)
    if origin is tuple and args[1:] == (Ellipsis,):
        item = decoder(args[0])
        return lambda data: tuple(item(d) for d in data)
    if origin is tuple:
        items = [decoder(a) for a in args]
        return lambda data: tuple(f(d) for f, d in zip(items, data, strict=True))
    if origin is np.ndarray:
        return np.asarray
    if kind in (int, float, str):
        scalar: Decoder = kind
        return scalar
    if _is_record(kind):
        return _record(kind)
    raise TypeError(f"mt5linux: cannot decode {kind!r}")


def _is_record(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")


def _record(record: type[Any]) -> Decoder:
    """A named tuple from a dict: fields a newer terminal adds are dropped, nested records (the
    `request` echoed in OrderSendResult/OrderCheckResult) are rebuilt too."""
    names: tuple[str, ...] = record._fields
    nested = {k: _record(t) for k, t in get_type_hints(record).items() if _is_record(t)}

    def build(data: dict[str, Any]) -> Any:
        fields = {k: v for k, v in data.items() if k in names}
        for name, rebuild in nested.items():
            if isinstance(fields.get(name), dict):
                fields[name] = rebuild(fields[name])
        return record(**fields)

    return build
