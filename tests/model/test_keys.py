"""The key layout: every key under the prefix, no two families on the same name."""

from __future__ import annotations

import inspect

from model.keys import NAMES, Keys


def every_key(keys: Keys, id_: str) -> dict[str, str]:
    """Each member of the layout with `id_` for every argument it takes."""
    found: dict[str, str] = {}
    for name, member in inspect.getmembers(type(keys)):
        if name.startswith("_") or name == "prefix":
            continue
        if isinstance(member, property):
            found[name] = getattr(keys, name)
        elif inspect.isfunction(member) and name != "key":
            arity = len(inspect.signature(member).parameters) - 1
            found[name] = getattr(keys, name)(*[id_] * arity)
    return found


def test_every_key_is_under_the_prefix() -> None:
    keys = every_key(Keys("{ea}:"), "x")
    assert len(keys) > 25
    assert all(key.startswith("{ea}:") for key in keys.values())


def test_no_two_members_share_a_key() -> None:
    keys = every_key(Keys("ea:"), "demo-1")
    assert len(set(keys.values())) == len(keys), keys


def test_relative_names_are_the_streams_of_eaflow_status() -> None:
    assert (NAMES.rtss, NAMES.orders("demo-1"), NAMES.ticks("EURUSD")) == (
        "rtss",
        "orders:demo-1",
        "ticks:EURUSD",
    )
    assert Keys("ea:").dlq(NAMES.orders("demo-1")) == "ea:dlq:orders:demo-1"
