"""Refusal caps per address and in total, and secrets blanked out of what is echoed."""

from __future__ import annotations

from eaflow.gateway.events import Flood, Over, flood_key, scrub

AT = 1_700_000_040.0  # the start of a minute


def test_one_host_is_one_address_whatever_its_ipv6_address() -> None:
    assert flood_key("2001:db8:1:2::1") == flood_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert flood_key("2001:db8:1:3::1") != flood_key("2001:db8:1:2::1")
    assert flood_key("::ffff:192.0.2.7") == flood_key("192.0.2.7") == "192.0.2.7"


def test_caps_per_address_and_in_total_per_minute() -> None:
    flood = Flood(per_address=2, total=3)
    assert [flood.hit("192.0.2.1", AT + n) for n in range(2)] == [None, None]
    assert flood.hit("192.0.2.1", AT + 10) == Over(address=True, first=True, wait=50)
    assert flood.hit("192.0.2.1", AT + 11) == Over(address=True, first=False, wait=49)
    assert flood.hit("192.0.2.2", AT + 12) == Over(address=False, first=True, wait=48)
    assert flood.hit("192.0.2.1", AT + 60) is None  # a new minute


def test_a_secret_and_pieces_of_it_are_blanked_out() -> None:
    secret = "s3cret-0123456789abcdefghij"
    shown = scrub(f"got '{secret[:20]}...', and {secret}; field [0].total_volume", [secret])
    assert secret[:8] not in shown and shown.count("***") == 2
    assert "total_volume" in shown  # words that are no part of a secret stay
