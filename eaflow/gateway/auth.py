"""Who sent an alert and what it may do: secret or signed timestamp, IPs, session binding."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eaflow.gateway.addresses import Address, allowed, parse_allowlist
from eaflow.gateway.events import Refused
from eaflow.gateway.sources import Source
from model import InstanceSpec

DUMMY = "no-such-source-" + secrets.token_urlsafe(24)  # compared when the source is unknown
SIGNATURE = re.compile(r"t=([0-9]{1,12}),\s*sha256=([0-9a-f]{64})")
SIGNATURE_FORMAT = (
    "t=<unix seconds>,sha256=<hex HMAC-SHA256 keyed with the source's secret of "
    "'<t>.' followed by the body>"
)


def signature_of(secret: str, body: bytes, timestamp: int) -> str:
    """`t=<timestamp>,sha256=<hex>`: HMAC-SHA256 of `<timestamp>.` + the raw body, keyed
    with the source's secret (the timestamp is signed, so it cannot be moved)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},sha256={mac.hexdigest()}"


@dataclass(frozen=True)
class Signature:
    """A signature header as sent: its timestamp and HMAC."""

    timestamp: int
    digest: str


def read_signature(value: str, header: str, window: int, now: float | None = None) -> Signature:
    """The header's timestamp and HMAC, or Refused (401) when it is not of the form or its
    timestamp is more than `window` seconds from the gateway's clock."""
    found = SIGNATURE.fullmatch(value.strip().lower())
    if found is None:
        raise Refused(401, "signature", header, f"must be {SIGNATURE_FORMAT}")
    timestamp = int(found.group(1))
    now = time.time() if now is None else now
    if abs(now - timestamp) > window:
        raise Refused(
            401,
            "signature",
            header,
            f"its timestamp t={timestamp} is {abs(now - timestamp):.0f} s away from the "
            f"gateway's clock (at most {window} s): sign each request as it is sent",
        )
    return Signature(timestamp, found.group(2))


def same(given: str, expected: str) -> bool:
    """Constant-time comparison, so response times do not leak how much of a secret matched."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def authenticate(
    source: Source | None,
    name: str,
    secret: str | None,
    body: bytes,
    signature: Signature | None,
    header: str,
) -> Source:
    """The source when the signature or the secret is its own, else Refused (401).

    An unknown source is refused with the very answer of a wrong secret (and after the
    same comparison), so answers do not tell which source names exist; the `security`
    event says which it was.
    """
    expected = source.secret if source is not None else DUMMY
    unknown = None if source is not None else f"unknown source '{name[:64]}'"
    if signature is not None:
        wanted = signature_of(expected, body, signature.timestamp).rpartition("=")[2]
        if not same(signature.digest, wanted) or source is None:
            raise Refused(
                401,
                "signature",
                header,
                f"does not match the body and the secret of source '{name[:64]}' "
                f"(expected {SIGNATURE_FORMAT})",
                detail=unknown,
            )
        return source
    if secret is None:
        raise Refused(
            401,
            "secret",
            "secret",
            "is required: add the source's secret to the alert "
            '("secret": "..." in JSON, secret=... in a command line), or sign the body',
        )
    if not same(secret, expected) or source is None:
        raise Refused(
            401,
            "secret",
            "secret",
            f"is not the secret of source '{name[:64]}' (or there is no such source)",
            detail=unknown,
        )
    if source.require_signature:
        raise Refused(401, "signature", header, f"is required by source '{source.name}'")
    return source


def check_address(source: Source, client: Address | None, shown: str) -> None:
    """The source's own allowlist, on top of the gateway's."""
    if source.allow and not allowed(client, parse_allowlist(source.allow)):
        raise Refused(
            403,
            "allowlist",
            "ip",
            f"{shown or 'the client'} may not send for source '{source.name}'",
        )


def bind(fields: dict[str, Any], source: Source, specs: Mapping[str, InstanceSpec]) -> None:
    """Keep a signal within the instances its source is bound to (the session binding).

    Named instances must all be bound; a group must lie wholly inside the binding and is
    replaced by its members (so a later change of the group cannot widen it); a signal
    naming none goes to the bound instances only.
    """
    if source.bound_to_all:
        return
    bound = set(source.instances)
    if fields.get("instances"):
        outside = [i for i in fields["instances"] if i not in bound]
        if outside:
            raise Refused(
                403,
                "binding",
                "instances",
                f"source '{source.name}' is not bound to {', '.join(outside)}",
            )
        return
    group = fields.get("group")
    if group is None:
        fields["instances"] = tuple(source.instances)
        return
    members = [i for i, spec in specs.items() if group in spec.groups]
    outside = [i for i in members if i not in bound]
    if outside:
        raise Refused(
            403,
            "binding",
            "group",
            f"group '{group}' holds {', '.join(outside)}, "
            f"to which source '{source.name}' is not bound",
        )
    if members:
        fields["instances"] = tuple(members)
        del fields["group"]
