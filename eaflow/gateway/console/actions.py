"""What an admin does from the console: halt, reduce or resume accounts (one, a group or
all); retry or purge dead letters.

A trading state is changed through the configuration service, as `PATCH /config/instances/
{id}` and `eaflow config set` change it: validated, versioned, published, and recorded in
the configuration history under the admin source signed in (`source:<name>`). A group (or
every instance of the registry) is changed one instance at a time, each its own recorded
version; the answer gives the outcome per instance. Dead letters are retried and purged
with `eaflow dlq`'s code (eaflow.dlq). Viewers may read dead letters; every action needs an
admin session (403 otherwise). A retry or a purge is recorded in `security` with its actor
(eaflow.gateway.console.audit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from eaflow.config.scopes import ConfigRefused
from eaflow.config.service import ConfigService
from eaflow.config.store import VersionConflict
from eaflow.dlq import DeadLetters, UnknownDeadLetter
from eaflow.gateway.console.audit import record_action
from eaflow.gateway.console.session import require_session
from eaflow.gateway.context import Gateway, gateway
from model import InstanceSpec
from model.config import TradingState

Gw = Annotated[Gateway, Depends(gateway)]
Actor = Annotated[str, Depends(require_session)]
Name = Annotated[str, Field(min_length=1, max_length=64)]


class TradingChange(BaseModel):
    """One instance, one group or (`all: true`) every instance, and the trading state to give
    it."""

    model_config = ConfigDict(extra="forbid")

    instance: Name | None = None
    group: Name | None = None
    all: bool = False
    state: TradingState

    @model_validator(mode="after")
    def _one_target(self) -> TradingChange:
        if [self.instance is not None, self.group is not None, self.all].count(True) != 1:
            raise ValueError("give exactly one of instance, group and all (true)")
        return self


class Retry(BaseModel):
    """Dead letters of one stream's DLQ: those of `ids`, or (retry only) all."""

    model_config = ConfigDict(extra="forbid")

    stream: Name
    ids: list[Annotated[str, Field(pattern=r"^[0-9]+-[0-9]+$")]] = Field(
        default_factory=list, max_length=1000
    )


def refused(status: int, field: str, rule: str, reason: str = "invalid") -> HTTPException:
    detail = {"error": f"{field}: {rule}", "field": field, "reason": reason}
    return HTTPException(status, detail)


def members(specs: Mapping[str, InstanceSpec], group: str | None) -> list[str]:
    """The instances of `group`, or every instance (None), sorted; 422 naming the field
    when there are none."""
    if group is None:
        if not specs:
            raise refused(422, "all", "no instance is registered")
        return sorted(specs)
    found = sorted(i for i, s in specs.items() if group in s.groups)
    if not found:
        raise refused(422, "group", f"no instance is in group '{group}'")
    return found


def actions_router(service: ConfigService | None) -> APIRouter:
    """`/console/api/trading_state` (needs `service`: without it, 503) and the DLQ routes."""
    router = APIRouter(prefix="/console/api", tags=["console"])

    @router.post(
        "/trading_state", summary="Halt, reduce or resume an instance, a group or all (admins)"
    )
    async def trading_state(body: TradingChange, gw: Gw, actor: Actor) -> list[dict[str, Any]]:
        if service is None:
            raise refused(503, "configuration", "is not served by this gateway", "unavailable")
        specs = await gw.registry.all()
        if body.instance is not None:
            if body.instance not in specs:
                raise refused(422, "instance", f"no instance '{body.instance}'")
            targets, scope = [body.instance], ""
        else:
            targets = members(specs, body.group)
            scope = f" (group {body.group})" if body.group else " (all instances)"
        note = f"console: {body.state.value}{scope}"
        outcomes: list[dict[str, Any]] = []
        for instance in targets:
            try:
                applied = await service.set(
                    instance, {"trading_state": body.state.value}, actor, note
                )
            except (ConfigRefused, VersionConflict) as error:
                outcomes.append(
                    {"instance": instance, "version": None, "published": False, "error": str(error)}
                )
                continue
            outcomes.append(
                {
                    "instance": instance,
                    "version": applied.version,
                    "published": applied.published,
                    "error": applied.error,
                }
            )
        return outcomes

    @router.get("/dlq", summary="Every DLQ holding dead letters, with its first entries")
    async def dead_letters(
        gw: Gw, count: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> list[dict[str, Any]]:
        letters = DeadLetters(gw.redis, gw.prefix)
        found = []
        for queue in await letters.queues():
            entries = await letters.entries(queue.name, count=count)
            found.append(
                {
                    "stream": queue.name,
                    "count": queue.count,
                    "entries": [
                        {
                            "id": e.id,
                            "stream": e.stream,
                            "group": e.group,
                            "error": e.error,
                            "deliveries": e.deliveries,
                            "dead_at_ms": e.dead_at_ms,
                            "data": e.data.decode(errors="replace"),
                        }
                        for e in entries
                    ],
                }
            )
        return found

    @router.post("/dlq/retry", summary="Put dead letters back on their stream (admins)")
    async def retry(body: Retry, gw: Gw, actor: Actor) -> list[dict[str, Any]]:
        letters = DeadLetters(gw.redis, gw.prefix)
        try:
            done = await letters.retry(body.stream, body.ids)
        except UnknownDeadLetter as unknown:
            field, _, rule = str(unknown).partition(": ")
            raise refused(422, field, rule) from unknown
        await record_action(
            gw,
            actor,
            "dlq_retry",
            stream=body.stream,
            retried=[d.id for d in done if d.error is None],
            failed={d.id: d.error for d in done if d.error is not None},
        )
        return [
            {"id": d.id, "stream": d.stream, "new_id": d.new_id, "error": d.error} for d in done
        ]

    @router.post("/dlq/purge", summary="Delete dead letters for good (admins)")
    async def purge(body: Retry, gw: Gw, actor: Actor) -> dict[str, Any]:
        if not body.ids:
            raise refused(
                422, "ids", "name the dead letters to purge (eaflow dlq purge empties a DLQ)"
            )
        deleted = await DeadLetters(gw.redis, gw.prefix).purge(body.stream, body.ids)
        await record_action(
            gw, actor, "dlq_purge", stream=body.stream, ids=body.ids, deleted=deleted
        )
        return {"stream": body.stream, "deleted": deleted}

    return router
