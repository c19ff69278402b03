"""Client addresses: IP allowlists (with TradingView's preset) and trusted proxies.

Behind a reverse proxy every request comes from the proxy, so the client is read from
`X-Forwarded-For` — but only when the peer is a configured trusted proxy, and then from
the right: the first address not itself a trusted proxy is the client. Anyone can write
that header; only the proxies we trust append to it honestly. Every line of the header
counts, in order (a proxy may append a line of its own instead of extending the last).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# TradingView's published webhook source addresses.
TRADINGVIEW = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
PRESETS = {"tradingview": TRADINGVIEW, "loopback": ("127.0.0.0/8", "::1")}
ANY = ("*", "any")


def parse_allowlist(entries: Iterable[str], field: str = "allow") -> tuple[Network, ...] | None:
    """Networks of the entries (IPs, CIDRs, presets); None means every address.

    ValueError names the entry that is neither.
    """
    networks: list[Network] = []
    for entry in entries:
        entry = entry.strip()
        if entry.lower() in ANY:
            return None
        for item in PRESETS.get(entry.lower(), (entry,)):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(
                    f"{field}: '{entry}' is not an IP address, a CIDR network or a preset "
                    f"({', '.join(PRESETS)}, *)"
                ) from None
    return tuple(networks)


def address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def allowed(client: Address | None, networks: tuple[Network, ...] | None) -> bool:
    if networks is None:
        return True
    if client is None:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in net for net in networks)


def client_address(
    peer: str | None, forwarded_lines: Sequence[str], trusted: tuple[Network, ...] | None
) -> tuple[str, Address | None]:
    """The client's address as text (for logs) and parsed (None if unreadable), from the
    peer and every `X-Forwarded-For` line of the request (in the order received)."""
    text = peer or ""
    parsed = address(text)
    if not trusted or parsed is None or not allowed(parsed, trusted):
        return text, parsed
    forwarded = [h for line in forwarded_lines for part in line.split(",") if (h := part.strip())]
    for hop in reversed(forwarded):
        hop_address = address(hop)
        if hop_address is None or not allowed(hop_address, trusted):
            return hop, hop_address
    return text, parsed
