"""`TerminalConfig`: which MT5 terminal an instance trades through, read from its broker URL.

    mt5://                                   the MetaTrader5 package in this process (Windows)
    mt5://?path=C:/MT5/demo-1/terminal64.exe&server=MetaQuotes-Demo
    mt5://wine-box:18812?server=MetaQuotes-Demo   an mt5linux server (a terminal under Wine)

Query parameters: `server` (trade server name), `path` (terminal64.exe of a portable terminal),
`timeout` (ms, default 60000), `portable` (1/0), `password_env` (name of the environment
variable holding the password) or `password_file` (a file holding it). Without either, the
variable `EAFLOW_MT5_PASSWORD_<login>` is used when set, else the password saved in the terminal.
A password in the URL itself is refused: URLs are stored in Redis and printed in logs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

DEFAULT_PORT = 18812  # mt5linux's (RPyC classic) default
DEFAULT_TIMEOUT_MS = 60_000  # MetaTrader5.initialize's own default
PARAMETERS = frozenset({"server", "path", "timeout", "portable", "password_env", "password_file"})


@dataclass(frozen=True, kw_only=True)
class TerminalConfig:
    """How to reach and log in to one terminal. `host` None: the local MetaTrader5 package."""

    login: int
    host: str | None = None
    port: int = DEFAULT_PORT
    path: str | None = None
    server: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: int = DEFAULT_TIMEOUT_MS
    portable: bool = False

    @property
    def endpoint(self) -> str:
        """Where the terminal is, for logs and for one-terminal-per-process checks."""
        return "local MetaTrader5" if self.host is None else f"mt5linux {self.host}:{self.port}"

    def initialize_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `initialize()` (the path goes first, unnamed, as MT5 wants)."""
        kwargs: dict[str, Any] = {"login": self.login, "timeout": self.timeout}
        if self.password is not None:
            kwargs["password"] = self.password
        if self.server is not None:
            kwargs["server"] = self.server
        if self.portable:
            kwargs["portable"] = True
        return kwargs

    @classmethod
    def from_url(
        cls,
        url: str,
        login: int,
        endpoint: str | None = None,
        env: Mapping[str, str] | None = os.environ,
    ) -> TerminalConfig:
        """Parse `mt5://[host[:port]][?params]`; `endpoint` ("host:port", e.g. from `--mt5`)
        replaces the URL's host. Raises ValueError naming the parameter and the rule.
        `env` None checks the URL without reading the password (it is on the worker's machine).
        """
        parsed = urlparse(url)
        if parsed.scheme != "mt5":
            raise ValueError(f"broker: {url!r} is not an mt5:// URL")
        query = parse_qs(parsed.query, keep_blank_values=True, strict_parsing=False)
        if "password" in query:
            raise ValueError(
                "broker: password must not be in the URL; use password_env=NAME (an environment "
                "variable) or password_file=PATH"
            )
        unknown = sorted(set(query) - PARAMETERS)
        if unknown:
            raise ValueError(
                f"broker: unknown parameter {', '.join(unknown)} "
                f"(known: {', '.join(sorted(PARAMETERS))})"
            )
        one = {name: values[-1] for name, values in query.items()}
        host, port = parse_endpoint(endpoint) if endpoint else _url_endpoint(parsed.netloc)
        return cls(
            login=login,
            host=host,
            port=port,
            path=one.get("path") or None,
            server=one.get("server") or None,
            password=None if env is None else _password(one, login, env),
            timeout=_positive_int("broker: timeout", one.get("timeout", str(DEFAULT_TIMEOUT_MS))),
            portable=_flag("portable", one.get("portable", "0")),
        )


def parse_endpoint(text: str) -> tuple[str, int]:
    """`host:port` or `host` (port 18812) of an mt5linux server, e.g. from `--mt5`."""
    host, _, port = text.strip().rpartition(":") if ":" in text else (text.strip(), "", "")
    if not host:
        raise ValueError(f"mt5: {text!r} must be host:port, e.g. localhost:{DEFAULT_PORT}")
    number = _positive_int("mt5: port", port) if port else DEFAULT_PORT
    if number > 65535:
        raise ValueError(f"mt5: port {number} must be at most 65535")
    return host, number


def _url_endpoint(netloc: str) -> tuple[str | None, int]:
    return parse_endpoint(netloc) if netloc else (None, DEFAULT_PORT)


def _password(params: Mapping[str, str], login: int, env: Mapping[str, str]) -> str | None:
    if "password_env" in params:
        name = params["password_env"]
        if name not in env:
            raise ValueError(f"broker: password_env names {name!r}, which is not set")
        return env[name]
    if "password_file" in params:
        path = Path(params["password_file"])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ValueError(f"broker: password_file {path} cannot be read ({error})") from None
    return env.get(f"EAFLOW_MT5_PASSWORD_{login}")


def _positive_int(name: str, text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f"{name}: {text!r} must be a positive whole number")
    return int(text)


def _flag(name: str, text: str) -> bool:
    if text not in ("0", "1", "true", "false"):
        raise ValueError(f"broker: {name}: {text!r} must be 1 or 0")
    return text in ("1", "true")
