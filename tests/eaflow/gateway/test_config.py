"""The gateway's settings from the environment and options."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eaflow.gateway.config import GatewayConfig


def test_environment_then_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAFLOW_GATEWAY_ALLOW", "tradingview, 10.0.0.0/8")
    monkeypatch.setenv("EAFLOW_GATEWAY_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setenv("EAFLOW_GATEWAY_BODY_LIMIT", "4096")
    config = GatewayConfig.from_env(port=9000, trusted_proxies=None)
    assert (config.allow, config.trusted_proxies, config.body_limit, config.port) == (
        ("tradingview", "10.0.0.0/8"),
        ("127.0.0.1",),
        4096,
        9000,
    )
    assert len(config.proxies) == 1


def test_trusting_every_proxy_is_refused() -> None:
    with pytest.raises(ValidationError, match="trusted_proxies: name the proxies"):
        GatewayConfig(trusted_proxies=("*",))
    with pytest.raises(ValidationError, match="allow: 'nowhere'"):
        GatewayConfig(allow=("nowhere",))
