"""`SinkConfig`: where results are written, how `rtrs` is kept and how often account states
are recorded, every knob documented."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class SinkConfig(BaseModel):
    """Example: ``SinkConfig(duckdb_path=Path("var/eaflow.duckdb"), clickhouse_url=None)``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    duckdb_path: Path | None = Field(description="eaflow's DuckDB file; None: no DuckDB sink.")
    clickhouse_url: str | None = Field(
        description="http(s)://, clickhouse:// server or chdb:///path; None: no ClickHouse sink."
    )
    clickhouse_database: str = Field("eaflow", description="ClickHouse database of the table.")
    idle_close: float = Field(
        2.0, ge=0, description="Seconds without a batch before a sink closes its database."
    )
    trim_interval: float = Field(10.0, gt=0, description="Seconds between trims of rtrs.")
    keep_results: float = Field(
        3600.0, ge=0, description="Acked results younger than this stay in rtrs, seconds."
    )
    lag_interval: float = Field(5.0, gt=0, description="Seconds between sink lag readings.")
    state_interval: float = Field(
        10.0,
        ge=0,
        description="Seconds between two recorded account states of an instance (a balance "
        "change is always recorded); 0: every snapshot.",
    )
