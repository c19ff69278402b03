"""The viewer token: what opens the chart page, `/api/*`, `/udf/*` and `/docs`.

They show instances' logins and brokers, balances, positions and tickets, so each request
must carry the token, as `Authorization: Bearer <token>` (scripts, the Charting Library)
or as the cookie a browser gets from the link `eaflow run` prints (`/?token=<token>`): the
gateway answers that link with the cookie and a redirect to the same page without the
token, so it stays out of the browser's history and of Referer headers. The cookie is
HttpOnly and SameSite=Strict, holds a value derived from the token (not the token), and
is named after the token's fingerprint, so two gateways on one host keep theirs apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from eaflow.gateway.auth import same

COOKIE_DAYS = 30


def new_token() -> str:
    """32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


class Viewer:
    def __init__(self, token: str) -> None:
        self.token = token
        self.cookie = "eaflow_viewer_" + hashlib.sha256(token.encode()).hexdigest()[:8]
        self.session = hmac.new(token.encode(), b"eaflow viewer session", "sha256").hexdigest()

    def is_token(self, given: str) -> bool:
        return same(given, self.token)

    def admits(self, authorization: str | None, cookies: Mapping[str, str]) -> bool:
        """Whether the request carries the token (Bearer) or the session cookie."""
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and given.strip() and self.is_token(given.strip()):
            return True
        cookie = cookies.get(self.cookie)
        return cookie is not None and same(cookie, self.session)

    def link(self, base: str, path: str = "/") -> str:
        """The URL that opens `path` with the token: what `eaflow run` prints."""
        return f"{base}{path}?{urlencode({'token': self.token})}"
