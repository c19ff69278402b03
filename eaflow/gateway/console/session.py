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
from typing import Annotated, NoReturn

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


SAME_SITE = frozenset({"same-origin", "none"})
"""`Sec-Fetch-Site` values of a request the console's own page (or a person) made."""


async def require_session(request: Request, gw: Annotated[Gateway, Depends(gateway)]) -> str:
    """FastAPI dependency of the console's actions: the admin's actor, or 403 (recorded in
    `security`) for a viewer, and for a request another site's page made with the admin's
    cookie (`Sec-Fetch-Site`, which browsers set and pages cannot: SameSite=Strict keeps
    the cookie from other sites, not from another port or subdomain of the same one)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in SAME_SITE:
        refusal = Refused(
            403,
            "cross_site",
            "origin",
            f"is another site's page (Sec-Fetch-Site: {site[:32]}): the console acts only "
            "from its own pages",
        )
        await _refuse(request, gw, refusal)
    actor = await admin_of(request, gw)
    if actor is not None:
        return actor
    refusal = Refused(
        403,
        "admin",
        "session",
        "is not an admin's: viewers see the console, admins act (sign in with the secret "
        "of an admin source)",
    )
    await _refuse(request, gw, refusal)


async def _refuse(request: Request, gw: Gateway, refusal: Refused) -> NoReturn:
    """Record `refusal` in `security` and answer it."""
    client = client_of(request.scope)
    seen = Recorded(
        ip=client.shown, path=request.url.path, user_agent=request.headers.get("user-agent", "")
    )
    shown = await gw.security.refuse(refusal, seen, [])
    raise HTTPException(
        shown.status, {"error": str(shown), "field": shown.field, "reason": shown.kind}
    )
