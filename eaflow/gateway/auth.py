"""Who sent an alert and what it may do: secret or HMAC signature, IPs, session binding."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from eaflow.gateway.addresses import Address, allowed, parse_allowlist
from eaflow.gateway.events import Refused
from eaflow.gateway.sources import Source
from model import InstanceSpec


def signature_of(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: HMAC-SHA256 of the raw body keyed with the source's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison, so response times do not leak how much of a secret matched."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def authenticate(
    source: Source, secret: str | None, body: bytes, signature: str | None, header: str
) -> None:
    """A valid signature header or the right secret in the body, else Refused (401)."""
    if signature is not None:
        if not same(signature.strip().lower(), signature_of(source.secret, body)):
            raise Refused(
                401,
                "signature",
                header,
                "does not match the body (expected "
                "sha256=<hex HMAC-SHA256 of the body keyed with the source's secret>)",
            )
        return
    if source.require_signature:
        raise Refused(401, "signature", header, f"is required by source '{source.name}'")
    if secret is None:
        raise Refused(
            401,
            "secret",
            "secret",
            "is required: add the source's secret to the "
            'alert ("secret": "..." in JSON, secret=... in a command line)',
        )
    if not same(secret, source.secret):
        raise Refused(
            401, "secret", "secret", f"does not match the secret of source '{source.name}'"
        )


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
