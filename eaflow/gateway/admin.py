"""The configuration API behind the gateway, open only to admin sources' secrets.

It changes risk limits and the kill switch, so it asks for `Authorization: Bearer
<secret of a source with admin: true>`, from an address both the gateway's allowlist and
that source's own allow; a wrong token, or the right one from an address its source does
not allow, gets the same 401 (the `security` event says which). `admin_attempts` wrong
tokens from one address lock it out for `admin_lockout` seconds. Every change is recorded
in the configuration history under the source that made it (`source:<name>`), never under
a name the client gives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request

from eaflow.config.http import config_router
from eaflow.config.scopes import ConfigRefused
from eaflow.config.service import Applied, ConfigService
from eaflow.gateway.addresses import allowed, parse_allowlist
from eaflow.gateway.auth import same
from eaflow.gateway.context import Gateway, gateway
from eaflow.gateway.events import Refused, flood_key
from eaflow.gateway.events import Request as Recorded
from eaflow.gateway.guard import client_of

ACTOR: ContextVar[str] = ContextVar("eaflow_config_actor")
DEFAULT_ACTOR = "http"  # what eaflow.config.http records when the client names no actor


def actor_of(name: str) -> str:
    return f"source:{name}"


async def check_admin(request: Request, gw: Gateway) -> str:
    """The actor of an admin request (`source:<name>`), else Refused as HTTPException."""
    client = client_of(request.scope)
    address = flood_key(client.shown)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    admins = [s for s in (await gw.sources.all()).values() if s.admin and s.enabled]
    matches = [s for s in admins if same(token, s.secret)]  # every one compared
    wrong = "is not the secret of an admin source allowed from this address"
    refusal: Refused | None = None
    if (wait := gw.lockout.wait(address)) is not None:
        refusal = Refused(
            429,
            "admin",
            "authorization",
            f"too many wrong tokens from {client.shown or 'this client'}: locked out for {wait} s",
            wait,
        )
    elif scheme.lower() != "bearer" or not token:
        refusal = Refused(401, "admin", "authorization", "is required: Bearer <admin secret>")
    elif not matches:
        gw.lockout.failed(address)
        refusal = Refused(401, "admin", "authorization", wrong)
    elif matches[0].allow and not allowed(client.address, parse_allowlist(matches[0].allow)):
        gw.lockout.failed(address)
        refusal = Refused(
            401,
            "admin",
            "authorization",
            wrong,
            detail=f"{client.shown or 'the client'} may not connect for source "
            f"'{matches[0].name}' (its allowlist)",
        )
    if refusal is None:
        return actor_of(matches[0].name)
    seen = Recorded(
        ip=client.shown, path=request.url.path, user_agent=request.headers.get("user-agent", "")
    )
    shown = await gw.security.refuse(refusal, seen, [token])
    headers = {"Retry-After": str(shown.retry_after)} if shown.retry_after else None
    raise HTTPException(
        shown.status,
        {"error": str(shown), "field": shown.field, "reason": shown.kind},
        headers=headers,
    )


async def require_admin(request: Request, gw: Annotated[Gateway, Depends(gateway)]) -> None:
    """FastAPI dependency guarding the configuration routes; it names the actor of the
    request's changes (the routes run in the context it sets)."""
    ACTOR.set(await check_admin(request, gw))


class Attributed(ConfigService):
    """The service, with each change recorded under the authenticated admin source."""

    def __init__(self, service: ConfigService) -> None:
        super().__init__(service.store, service.registry)

    async def change(
        self,
        scope: str,
        values: Mapping[str, Any],
        paths: Sequence[str],
        actor: str,
        note: str = "",
    ) -> Applied:
        authenticated = ACTOR.get()
        if actor not in (DEFAULT_ACTOR, authenticated):
            raise ConfigRefused(
                "actor",
                f"is recorded as the authenticated source ({authenticated}); leave it out",
                scope,
            )
        return await super().change(scope, values, paths, authenticated, note)


def admin_router(service: ConfigService) -> APIRouter:
    """`/config/...` of eaflow.config.http, guarded, changes recorded under their source."""
    return config_router(Attributed(service), dependencies=[Depends(require_admin)])
