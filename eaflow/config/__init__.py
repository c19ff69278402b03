"""Configuration: DuckDB as the source of truth, validated, versioned, mirrored into Redis."""

from eaflow.config.scopes import GLOBAL, ConfigRefused
from eaflow.config.service import Applied, ConfigService, ScopeView
from eaflow.config.store import ConfigStore

__all__ = ["GLOBAL", "Applied", "ConfigRefused", "ConfigService", "ConfigStore", "ScopeView"]
