"""The console's admin session: an admin source's secret exchanged for a signed cookie.

The console page is a read path (the viewer token opens it); acting from it needs an
admin. `POST /console/api/session` with `Authorization: Bearer <secret of an admin
source>` is checked exactly as `/config` checks it (eaflow.gateway.admin: lockout, the
source's allowlist, the `security` record) and answered with an HttpOnly, SameSite=Strict
cookie `<source>.<expiry>.<HMAC>`, keyed with that source's secret: no server-side store,
and rotating or disabling the source, or taking its admin flag, ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from eaflow.gateway.admin import actor_of
from eaflow.gateway.auth import same
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.events import Refused
from eaflow.gateway.events import Request as Recorded
from eaflow.gateway.guard import client_of

HOURS = 12  # an admin session's life


def cookie_name(gw: Gateway) -> str:
    """Beside the viewer's cookie, with the same per-gateway suffix."""
    return gw.viewer.cookie.replace("_viewer_", "_admin_")


def signed(name: str, secret: str, expires: int) -> str:
    mac = hmac.new(secret.encode(), f"console {name}.{expires}".encode(), hashlib.sha256)
    return f"{name}.{expires}.{mac.hexdigest()}"


def set_session(response: Response, request: Request, gw: Gateway, name: str, secret: str) -> None:
    expires = int(time.time()) + HOURS * 3600
    tls = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(
        cookie_name(gw),
        signed(name, secret, expires),
        max_age=HOURS * 3600,
        path="/console",
        secure=tls,
        httponly=True,
        samesite="strict",
    )


async def admin_of(request: Request, gw: Gateway) -> str | None:
    """The actor (`source:<name>`) of a valid admin session cookie, else None."""
    value = request.cookies.get(cookie_name(gw), "")
    name, _, rest = value.partition(".")
    expires, _, _ = rest.partition(".")
    if not name or not expires.isdigit() or int(expires) < time.time():
        return None
    source = await gw.sources.get(name)
    if source is None or not source.admin or not source.enabled:
        return None
    if not same(value, signed(name, source.secret, int(expires))):
        return None
    return actor_of(name)


async def require_session(request: Request, gw: Annotated[Gateway, Depends(gateway)]) -> str:
    """FastAPI dependency of the console's actions: the admin's actor, or 403 (recorded in
    `security`) for a viewer."""
    actor = await admin_of(request, gw)
    if actor is not None:
        return actor
    client = client_of(request.scope)
    refusal = Refused(
        403,
        "admin",
        "session",
        "is not an admin's: viewers see the console, admins act (sign in with the secret "
        "of an admin source)",
    )
    seen = Recorded(
        ip=client.shown, path=request.url.path, user_agent=request.headers.get("user-agent", "")
    )
    shown = await gw.security.refuse(refusal, seen, [])
    raise HTTPException(
        shown.status, {"error": str(shown), "field": shown.field, "reason": shown.kind}
    )
