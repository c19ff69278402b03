"""The configuration over HTTP: a FastAPI `APIRouter` the web gateway mounts.

Same service as `eaflow config`, so a change is validated, versioned and published the
same way. Refusals are 422 with the field and rule; the gateway guards the router (it
changes risk limits) by passing its admin check as a dependency.

Example::

    app.include_router(config_router(service, dependencies=[Depends(require_admin)]))
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query
from fastapi.params import Depends
from pydantic import BaseModel, ConfigDict, Field
from redis.exceptions import RedisError

from eaflow.config.scopes import GLOBAL, ConfigRefused, scope_name
from eaflow.config.service import Applied, ConfigService, ScopeView
from eaflow.config.store import VersionConflict

T = TypeVar("T")


class ChangeRequest(BaseModel):
    """Field paths to set (JSON values) and to unset, in one version."""

    model_config = ConfigDict(extra="forbid")

    set: dict[str, Any] = Field(default_factory=dict, examples=[{"max_open_orders": 5}])
    unset: list[str] = Field(default_factory=list, examples=[["symbols.XAUUSD.lot_size"]])
    note: str = ""
    actor: str = "http"


class RestoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backup_id: int | None = None
    force: bool = False


def _view(view: ScopeView) -> dict[str, Any]:
    return {
        "scope": scope_name(view.scope),
        "version": view.version,
        "document": view.document,
        "config": view.config.model_dump(mode="json"),
        "applied": view.applied.get(view.scope),
        "switch": None if view.switch is None else view.switch.model_dump(mode="json"),
    }


def _applied(applied: Applied) -> dict[str, Any]:
    return {
        "version": applied.version,
        "scope": scope_name(applied.scope),
        "document": applied.document,
        "published": applied.published,
        "error": applied.error,
    }


async def _guarded(work: Awaitable[T]) -> T:
    """Refusals → 422 naming the field; a concurrent writer → 409; Redis down → 503."""
    try:
        return await work
    except ConfigRefused as refused:
        detail = {"field": refused.field, "rule": refused.rule, "scope": scope_name(refused.scope)}
        raise HTTPException(422, detail) from refused
    except VersionConflict as conflict:
        raise HTTPException(409, str(conflict)) from conflict
    except (RedisError, OSError) as error:
        raise HTTPException(503, f"redis: {error}") from error


def config_router(service: ConfigService, dependencies: Sequence[Depends] = ()) -> APIRouter:
    """`/config` (global) and `/config/instances/{id}`: get, change; history, backups."""
    router = APIRouter(prefix="/config", tags=["configuration"], dependencies=list(dependencies))

    async def change(scope: str, body: ChangeRequest) -> dict[str, Any]:
        work = service.change(scope, body.set, body.unset, body.actor, body.note)
        return _applied(await _guarded(work))

    @router.get("")
    async def get_global() -> dict[str, Any]:
        """The global defaults and the kill switch, with the current version."""
        return _view(await _guarded(service.get(GLOBAL)))

    @router.patch("")
    async def change_global(body: ChangeRequest) -> dict[str, Any]:
        """Set/unset global fields; every instance's configuration must stay valid."""
        return await change(GLOBAL, body)

    @router.get("/instances")
    async def list_instances() -> list[dict[str, Any]]:
        """Every instance with its configuration and the version it reports applying."""
        specs = await _guarded(service.instances())
        applied = await service.applied()
        return [
            {**s.model_dump(mode="json"), "applied": applied.get(i)}
            for i, s in sorted(specs.items())
        ]

    @router.get("/instances/{instance_id}")
    async def get_instance(instance_id: str) -> dict[str, Any]:
        return _view(await _guarded(service.get(instance_id)))

    @router.patch("/instances/{instance_id}")
    async def change_instance(instance_id: str, body: ChangeRequest) -> dict[str, Any]:
        return await change(instance_id, body)

    @router.get("/history")
    async def history(
        instance: str | None = None,
        all_scopes: Annotated[bool, Query(alias="all")] = False,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[dict[str, Any]]:
        """Newest first: the global scope, one instance (`instance=`), or `all=true`."""
        scope = None if all_scopes else (instance or GLOBAL)
        changes = await _guarded(service.history(scope, limit))
        return [{**c.__dict__, "scope": scope_name(c.scope)} for c in changes]

    @router.post("/backup")
    async def backup() -> dict[str, int]:
        return {"backup_id": await _guarded(service.backup())}

    @router.post("/restore")
    async def restore(body: RestoreRequest) -> dict[str, int]:
        backup_id, entries = await _guarded(service.restore(body.backup_id, body.force))
        return {"backup_id": backup_id, "entries": entries}

    @router.post("/publish")
    async def publish() -> dict[str, Any]:
        return _applied(await _guarded(service.publish()))

    return router
