"""`POST /console/api/close`: an admin closes one position through the signal path.

The console publishes what an alert would: a `close` signal for that ticket and instance on
`rtss`, under the admin's source name, so the router and the executor handle it like any
other and it ends in one result in `rtrs` (closed, rejected or failed), which the page
shows as it arrives. The ticket must be an open position of the instance's last snapshot
(422 otherwise). The request is recorded in `security` with its actor and signal id.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from eaflow.gateway.chart import state_of
from eaflow.gateway.console.actions import Actor, Gw, Name, refused
from eaflow.gateway.console.audit import record_action
from model import Signal
from model.enums import Action

router = APIRouter(prefix="/console/api", tags=["console"])


class ClosePosition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instance: Name
    ticket: Annotated[int, Field(gt=0, lt=2**64)]


@router.post("/close", summary="Close one position with a close signal (admins)")
async def close(body: ClosePosition, gw: Gw, actor: Actor) -> dict[str, Any]:
    state = await state_of(gw, body.instance)
    if state is None:
        raise refused(422, "instance", f"no account snapshot of '{body.instance}' yet")
    found = [p for p in state.positions if p.ticket == body.ticket]
    if not found:
        raise refused(
            422, "ticket", f"{body.ticket} is no open position of {body.instance}'s last snapshot"
        )
    signal = Signal(
        action=Action.CLOSE,
        symbol=found[0].symbol,
        ticket=body.ticket,
        instances=(body.instance,),
        source=actor.removeprefix("source:"),
        comment="console close",
    )
    await gw.topics.rtss.send(signal.model_dump(mode="json", exclude_none=True))
    await record_action(
        gw,
        actor,
        "close",
        instance=body.instance,
        ticket=body.ticket,
        signal_id=signal.signal_id,
    )
    return {"signal_id": signal.signal_id, "instance": body.instance, "ticket": body.ticket}
