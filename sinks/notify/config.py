"""`NotifyConfig`: where notifications go and which ones are sent, every knob documented."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from model import ReportKind

DEFAULT_EVENTS = tuple(k for k in ReportKind if k is not ReportKind.HEARTBEAT)
"""Every `ris` report but the 5-second heartbeat."""


class NotifyConfig(BaseModel):
    """Example: ``NotifyConfig(urls=("tgram://BOT_TOKEN/CHAT_ID",), results="failures")``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: tuple[str, ...] = Field(
        description="Apprise URLs (tgram://, discord://, slack://, mailto://, json://, ...)."
    )
    results: Literal["failures", "all", "none"] = Field(
        "failures",
        description="failures: rejected and failed results; all: fills and every other too; "
        "none: no results. eaoff/eaon switches are always sent.",
    )
    instances: tuple[str, ...] = Field(
        (), description="Only results and events of these instances; empty: every instance."
    )
    events: tuple[ReportKind, ...] = Field(
        DEFAULT_EVENTS, description="The `ris` report kinds sent (instance status, risk limits)."
    )
    batch_size: Annotated[int, Field(ge=1)] = Field(
        1000,
        description="Entries read at once: a broadcast's results read together are one message.",
    )
    min_interval: Annotated[float, Field(ge=0)] = Field(
        1.0,
        description="Seconds between two rounds of messages: what comes meanwhile waits "
        "in the stream and goes out in the next round.",
    )
    max_messages: Annotated[int, Field(ge=1)] = Field(
        5, description="Messages one batch may send; past it they are merged into one digest."
    )
    max_lines: Annotated[int, Field(ge=1)] = Field(
        20, description="Lines listed in one message; the rest are counted."
    )
    title: str = Field("eaflow", description="The start of every message's title.")
