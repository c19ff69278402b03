"""Allowlists and the client address behind trusted proxies."""

from __future__ import annotations

import pytest

from eaflow.gateway.addresses import TRADINGVIEW, address, allowed, client_address, parse_allowlist


def test_presets_cidrs_and_everyone() -> None:
    networks = parse_allowlist(["tradingview", "10.0.0.0/8", "::1"])
    assert networks is not None
    assert all(allowed(address(ip), networks) for ip in TRADINGVIEW)
    assert allowed(address("10.20.30.40"), networks)
    assert allowed(address("::ffff:52.89.214.238"), networks)  # IPv4-mapped IPv6
    assert not allowed(address("52.89.214.239"), networks)
    assert not allowed(None, networks)
    assert parse_allowlist(["tradingview", "*"]) is None


def test_a_bad_entry_is_named() -> None:
    with pytest.raises(ValueError, match=r"allow: '10\.0\.0/33' is not an IP address"):
        parse_allowlist(["10.0.0/33"])


def test_forwarded_for_is_read_only_from_trusted_proxies() -> None:
    proxies = parse_allowlist(["127.0.0.1", "10.0.0.0/8"])
    assert proxies is not None
    lines = ["198.51.100.7, 52.89.214.238, 10.1.1.1"]
    assert client_address("127.0.0.1", lines, proxies)[0] == "52.89.214.238"
    assert client_address("203.0.113.9", lines, proxies)[0] == "203.0.113.9"
    assert client_address("127.0.0.1", lines, ())[0] == "127.0.0.1"
    assert client_address("127.0.0.1", [], proxies)[0] == "127.0.0.1"
    shown, parsed = client_address("127.0.0.1", ["not-an-ip"], proxies)
    assert (shown, parsed) == ("not-an-ip", None)


def test_every_forwarded_for_line_counts_and_the_last_is_nearest() -> None:
    proxies = parse_allowlist(["127.0.0.1"])
    lines = ["52.89.214.238", "198.51.100.7"]  # the client's own line, then the proxy's
    assert client_address("127.0.0.1", lines, proxies)[0] == "198.51.100.7"
