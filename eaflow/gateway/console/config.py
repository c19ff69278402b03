"""The console's configuration panel: one instance's configuration in force, where each value
comes from (its scope, the global scope, the default), and the history of its scope and of
the global scope; or the global scope's (`/console/api/config` without an instance: set
there, or the default) and its history. Admins set and unset fields of either scope.

A change goes through the configuration service, as `PATCH /config/instances/{id}`,
`PATCH /config` and `eaflow config set` do: validated (422 naming the field and the rule;
a global change must leave every instance's configuration valid), versioned in DuckDB,
published to the registry the router reads and recorded in the configuration history
under the admin source signed in, with the note `console: set <paths>`; it is recorded in
`security` as a `console_action` too. Viewers read; a viewer's change is refused (403).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from eaflow.config.scopes import GLOBAL, ConfigRefused, scope_name
from eaflow.config.service import ConfigService
from eaflow.config.sources import ConfigField, fields, global_fields
from eaflow.config.store import Change, VersionConflict
from eaflow.gateway.console.actions import Actor, Gw, refused
from eaflow.gateway.console.audit import record_action
from eaflow.gateway.context import Gateway

T = TypeVar("T")
InstanceId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
FieldPath = Annotated[str, Field(min_length=1, max_length=200)]


class ConfigEdit(BaseModel):
    """Field paths of the instance's scope to set (JSON values) and to unset (inherit)."""

    model_config = ConfigDict(extra="forbid")

    set: dict[FieldPath, Any] = Field(
        default_factory=dict, max_length=100, examples=[{"max_open_orders": 5}]
    )
    unset: list[FieldPath] = Field(
        default_factory=list, max_length=100, examples=[["symbols.XAUUSD.lot_size"]]
    )

    def note(self) -> str:
        """`console: set max_open_orders, unset symbols.XAUUSD.lot_size` (the values are in
        the history's `change`)."""
        done = [f"set {', '.join(self.set)}"] if self.set else []
        done += [f"unset {', '.join(self.unset)}"] if self.unset else []
        note = "console: " + "; ".join(done)
        return note if len(note) <= 200 else note[:199] + "…"


async def checked(work: Awaitable[T]) -> T:
    """A refusal → 422 naming the field and the rule (as `/config` answers), a concurrent
    writer that kept winning → 409."""
    try:
        return await work
    except ConfigRefused as refusal:
        detail = {
            "error": str(refusal),
            "field": refusal.field,
            "rule": refusal.rule,
            "reason": "invalid",
        }
        raise HTTPException(422, detail) from refusal
    except VersionConflict as conflict:
        raise refused(409, "version", str(conflict), "conflict") from conflict


def history_row(change: Change) -> dict[str, Any]:
    return {
        "version": change.version,
        "at": change.at.isoformat(),
        "scope": scope_name(change.scope),
        "actor": change.actor,
        "change": change.change,
        "note": change.note,
    }


def field_row(found: ConfigField) -> dict[str, Any]:
    return {"field": found.path, "value": found.value, "source": found.source}


def config_router(service: ConfigService | None) -> APIRouter:
    """`/console/api/config/{instance}` and (the global scope) `/console/api/config`: GET for
    anyone who may open the console, PATCH for admins (503 both, without a configuration
    service)."""
    router = APIRouter(prefix="/console/api/config", tags=["console"])

    def served() -> ConfigService:
        if service is None:
            raise refused(503, "configuration", "is not served by this gateway", "unavailable")
        return service

    async def apply(scope: str, body: ConfigEdit, gw: Gateway, actor: str) -> dict[str, Any]:
        """One version of `scope` (GLOBAL or an instance id) with the body's changes."""
        settings = served()
        note = body.note()
        applied = await checked(settings.change(scope, body.set, body.unset, actor, note))
        target = {"scope": "global"} if scope == GLOBAL else {"instance": scope}
        await record_action(
            gw,
            actor,
            "config_change",
            **target,
            set=body.set,
            unset=body.unset,
            version=applied.version,
            published=applied.published,
        )
        return {
            **target,
            "version": applied.version,
            "published": applied.published,
            "error": applied.error,
            "document": applied.document,
            "note": note,
        }

    @router.get("", summary="The global scope's configuration, its sources and history")
    async def show_global(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
        settings = served()
        snapshot = await settings.snapshot()
        return {
            "scope": "global",
            "version": snapshot.version,
            "fields": [field_row(f) for f in global_fields(snapshot.scope(GLOBAL))],
            "history": [history_row(c) for c in await settings.history(GLOBAL, limit)],
        }

    @router.patch("", summary="Set and unset fields of the global scope (admins)")
    async def change_global(body: ConfigEdit, gw: Gw, actor: Actor) -> dict[str, Any]:
        return await apply(GLOBAL, body, gw, actor)

    @router.get("/{instance}", summary="An instance's configuration, its sources and history")
    async def show(
        instance: InstanceId, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> dict[str, Any]:
        settings = served()
        view = await checked(settings.get(instance))  # adopts; an unknown instance: 422
        snapshot = await settings.snapshot()  # both scopes' documents at one version
        found = await settings.history(instance, limit) + await settings.history(GLOBAL, limit)
        found.sort(key=lambda change: change.version, reverse=True)
        return {
            "instance": instance,
            "version": snapshot.version,
            "applied": view.applied.get(instance),
            "fields": [
                field_row(f) for f in fields(snapshot.scope(GLOBAL), snapshot.scope(instance))
            ],
            "history": [history_row(change) for change in found[:limit]],
        }

    @router.patch("/{instance}", summary="Set and unset fields of an instance's scope (admins)")
    async def change(
        instance: InstanceId, body: ConfigEdit, gw: Gw, actor: Actor
    ) -> dict[str, Any]:
        return await apply(instance, body, gw, actor)

    return router
