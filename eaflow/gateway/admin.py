"""The configuration API behind the gateway, open only to admin sources' secrets.

It changes risk limits and the kill switch, so it asks for `Authorization: Bearer
<secret of a source with admin: true>` from an allowed address, and every refusal is a
`security` event like a refused webhook.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from eaflow.config.http import config_router
from eaflow.config.service import ConfigService
from eaflow.gateway.addresses import allowed, client_address
from eaflow.gateway.auth import same
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.events import Refused
from eaflow.gateway.events import Request as Seen


async def check_admin(request: Request, gw: Gateway) -> None:
    shown, client = client_address(
        request.client.host if request.client else None, request.headers, gw.proxies
    )
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    admins = [s for s in (await gw.sources.all()).values() if s.admin and s.enabled]
    matches = [s for s in admins if same(token.strip(), s.secret)]  # every one compared
    if not allowed(client, gw.allowlist):
        refusal = Refused(403, "allowlist", "ip", f"{shown or 'the client'} is not allowed")
    elif scheme.lower() != "bearer" or not token:
        refusal = Refused(401, "admin", "authorization", "is required: Bearer <admin secret>")
    elif not matches:
        refusal = Refused(401, "admin", "authorization", "is not the secret of an admin source")
    else:
        return
    seen = Seen(ip=shown, path=request.url.path, user_agent=request.headers.get("user-agent", ""))
    await gw.security.refused(refusal.scrubbed([token]), seen)
    raise HTTPException(
        refusal.status, {"error": str(refusal), "field": refusal.field, "reason": refusal.kind}
    )


async def require_admin(request: Request, gw: Annotated[Gateway, Depends(gateway)]) -> None:
    """FastAPI dependency guarding the configuration routes."""
    await check_admin(request, gw)


def admin_router(service: ConfigService) -> APIRouter:
    """`/config/...` of eaflow.config.http, guarded."""
    return config_router(service, dependencies=[Depends(require_admin)])
