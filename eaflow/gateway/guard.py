"""The gate every request passes first (an ASGI middleware), before any route sees it.

In order, each refusal answered with the field and the rule and recorded in `security`:

1. `Host`: an IP address, `localhost` or one of the configured server names — a web page
   on a name of its own (DNS rebinding) cannot reach the gateway from a browser.
2. Framing: `Content-Length` beside `Transfer-Encoding` is refused (request smuggling:
   a proxy and the gateway could read different bodies).
3. The gateway's IP allowlist (every path; `/healthz` only says the gateway is up).
4. Bodies (the webhook, `/config`): read whole here, within the size limit and the body
   timeout (a client trickling a body holds a connection, not the gateway), then handed on.
5. Read paths (the chart page, `/api/*`, `/udf/*`, `/docs`, `/static/*`): the viewer token
   (viewer.py). The webhook checks its source's secret itself; `/config` an admin token.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eaflow.gateway.addresses import Address, allowed, client_address
from eaflow.gateway.context import Gateway
from eaflow.gateway.events import Refused, Request, answer
from eaflow.gateway.viewer import COOKIE_DAYS

OPEN = frozenset({"/healthz"})
CONFIG_BODY_LIMIT = 65_536
DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Client:
    """The client as the gateway sees it: its address as text (logs) and parsed."""

    shown: str
    address: Address | None


def client_of(scope: Scope) -> Client:
    """What the guard found for this request (routes read it from `request.state.client`)."""
    found: Client = scope["state"]["client"]
    return found


def host_name(host: str) -> str:
    """`Host` without its port, lower case: `[::1]:8080` → `::1`, `A.example:443` → `a.example`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    name, colon, port = host.rpartition(":")
    if colon and DIGITS.fullmatch(port):
        host = name
    return host.rstrip(".")


def check_host(host: str | None, names: tuple[str, ...]) -> None:
    if host is None:  # HTTP/1.0 without Host: no browser sends that
        return
    name = host_name(host)
    try:
        ipaddress.ip_address(name)
        return  # an address is no name a rebinding page could own
    except ValueError:
        pass
    if name == "localhost" or name in names:
        return
    raise Refused(
        400,
        "host",
        "host",
        f"'{name[:64]}' is not a name of this gateway: requests must name it by an IP "
        "address, localhost or a configured server name (--server-name, "
        "EAFLOW_GATEWAY_SERVER_NAMES)",
    )


def check_framing(headers: Headers) -> None:
    if "transfer-encoding" in headers and "content-length" in headers:
        raise Refused(
            400,
            "malformed",
            "transfer-encoding",
            "may not come with Content-Length: send one of them",
            close=True,
        )
    lengths = headers.getlist("content-length")
    if any(not DIGITS.fullmatch(v.strip()) for v in lengths) or len(set(lengths)) > 1:
        raise Refused(400, "malformed", "content-length", "is not one number of bytes", close=True)


async def receive_body(receive: Receive, headers: Headers, limit: int, seconds: float) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and int(declared) > limit:
        raise Refused(
            413, "size", "body", f"is {int(declared)} bytes; the limit is {limit}", close=True
        )
    body = bytearray()
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise Refused(
                        400, "malformed", "body", "the client left before sending all of it"
                    )
                body += message.get("body", b"")
                if len(body) > limit:
                    raise Refused(
                        413, "size", "body", f"is over the limit of {limit} bytes", close=True
                    )
                if not message.get("more_body", False):
                    return bytes(body)
    except TimeoutError:
        raise Refused(
            408,
            "timeout",
            "body",
            f"was not received in full within {seconds:g} s (received {len(body)} bytes)",
            close=True,
        ) from None


def replayed(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the body already read to the app, then waits as usual."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def without_token(scope: Scope) -> str:
    """The request's path and query, less the token."""
    path: str = scope["path"]
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), True)
    rest = urlencode([(k, v) for k, v in query if k != "token"])
    return path + (f"?{rest}" if rest else "")


class Guard:
    """ASGI middleware in front of every route (see the module's docstring)."""

    def __init__(self, app: ASGIApp, gateway: Gateway) -> None:
        self.app = app
        self.gw = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN:
            await self.app(scope, receive, send)
            return
        gw = self.gw
        headers = Headers(scope=scope)
        peer = scope.get("client")
        shown, address = client_address(
            peer[0] if peer else None, headers.getlist("x-forwarded-for"), gw.proxies
        )
        client = Client(shown, address)
        scope.setdefault("state", {})["client"] = client
        path: str = scope["path"]
        try:
            check_host(headers.get("host"), gw.config.server_names)
            check_framing(headers)
            if not allowed(address, gw.allowlist):
                raise Refused(403, "allowlist", "ip", f"{shown or 'the client'} is not allowed")
            if path.startswith("/webhook/") or path == "/config" or path.startswith("/config/"):
                limit = gw.config.body_limit if path.startswith("/webhook/") else CONFIG_BODY_LIMIT
                body = await receive_body(receive, headers, limit, gw.config.body_timeout)
                receive = replayed(body, receive)
            elif await self.viewer(scope, headers, send):
                return
        except Refused as raw:
            seen = Request(ip=shown, path=path, user_agent=headers.get("user-agent", ""))
            extra = [headers.get("authorization", "").partition(" ")[2].strip()]
            refusal = await gw.security.refuse(raw, seen, extra)
            await answer(refusal)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def viewer(self, scope: Scope, headers: Headers, send: Send) -> bool:
        """Admit a read request with the viewer token, else Refused (401). True when it
        was the token link and has been answered (the cookie and a redirect)."""
        viewer = self.gw.viewer
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), True))
        given = query.get("token")
        if given is not None:
            if scope["method"] not in ("GET", "HEAD") or not viewer.is_token(given):
                raise Refused(401, "viewer", "token", "is not the viewer token")
            response = RedirectResponse(without_token(scope), status_code=303)
            tls = scope.get("scheme") == "https" or headers.get("x-forwarded-proto") == "https"
            response.set_cookie(
                viewer.cookie,
                viewer.session,
                max_age=COOKIE_DAYS * 86_400,
                path="/",
                secure=tls,  # behind a TLS proxy: never sent over plain HTTP
                httponly=True,
                samesite="strict",
            )
            await response(scope, _nothing, send)
            return True
        cookies = cookie_parser(headers.get("cookie", ""))
        if not viewer.admits(headers.get("authorization"), cookies):
            raise Refused(
                401,
                "viewer",
                "token",
                "is required: open the link the gateway printed (/?token=...), or send "
                "Authorization: Bearer <viewer token>",
            )
        return False


async def _nothing() -> Message:
    return {"type": "http.disconnect"}
