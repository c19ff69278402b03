"""mt5:// URLs: where the terminal is and how to log in, with clear errors for bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokers.mt5.config import TerminalConfig, parse_endpoint


def test_a_bare_url_means_the_local_package_with_the_saved_password() -> None:
    config = TerminalConfig.from_url("mt5://", 5_000_001, env={})
    assert (config.host, config.endpoint, config.password) == (None, "local MetaTrader5", None)
    assert config.initialize_kwargs() == {"login": 5_000_001, "timeout": 60_000}


def test_a_windows_portable_terminal() -> None:
    url = "mt5://?path=C:/MT5/demo-1/terminal64.exe&server=MetaQuotes-Demo&portable=1"
    config = TerminalConfig.from_url(url, 5_000_001, env={})
    assert config.path == "C:/MT5/demo-1/terminal64.exe"
    assert config.initialize_kwargs() == {
        "login": 5_000_001,
        "timeout": 60_000,
        "server": "MetaQuotes-Demo",
        "portable": True,
    }


def test_an_mt5linux_server_and_the_password_from_the_environment() -> None:
    url = "mt5://wine-box:18813?server=Broker-Demo&password_env=DEMO_PASSWORD&timeout=30000"
    config = TerminalConfig.from_url(url, 42, env={"DEMO_PASSWORD": "s3cret"})
    assert (config.host, config.port, config.endpoint) == (
        "wine-box",
        18813,
        "mt5linux wine-box:18813",
    )
    assert config.initialize_kwargs()["password"] == "s3cret"
    assert "s3cret" not in repr(config)


def test_the_password_from_a_file_or_the_per_login_variable(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from-file\n")
    config = TerminalConfig.from_url(f"mt5://?password_file={secret}", 42, env={})
    assert config.password == "from-file"
    config = TerminalConfig.from_url("mt5://", 42, env={"EAFLOW_MT5_PASSWORD_42": "per-login"})
    assert config.password == "per-login"


def test_the_mt5_option_replaces_the_urls_host() -> None:
    config = TerminalConfig.from_url("mt5://?server=X", 42, endpoint="10.0.0.5:18812", env={})
    assert (config.host, config.port, config.server) == ("10.0.0.5", 18812, "X")
    assert parse_endpoint("localhost") == ("localhost", 18812)


@pytest.mark.parametrize(
    ("url", "endpoint", "message"),
    [
        ("mt5://?password=hunter2", None, "password must not be in the URL"),
        ("mt5://?sever=X", None, "unknown parameter sever"),
        ("mt5://?timeout=soon", None, "broker: timeout: 'soon' must be a positive whole number"),
        ("mt5://?portable=yes", None, "portable: 'yes' must be 1 or 0"),
        ("mt5://?password_env=NOPE", None, "password_env names 'NOPE', which is not set"),
        ("mt5://?password_file=/no/such/file", None, "password_file /no/such/file cannot be read"),
        ("sim://", None, "is not an mt5:// URL"),
        ("mt5://", "host:port", "mt5: port: 'port' must be a positive whole number"),
        ("mt5://", ":18812", "must be host:port"),
        ("mt5://", "h:70000", "mt5: port 70000 must be at most 65535"),
    ],
)
def test_bad_urls_name_the_parameter_and_the_rule(
    url: str, endpoint: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        TerminalConfig.from_url(url, 42, endpoint=endpoint, env={})
