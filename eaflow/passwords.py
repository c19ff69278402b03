"""Redis passwords of the roles: read from the environment or a directory, never printed.

A password comes from the file `{password_dir}/{role}` (Docker and Kubernetes secrets are
such files) or else from `EAFLOW_REDIS_PASSWORD_{ROLE}`. URLs that carry one are shown
through `redact_url`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from eaflow.acl import Role

MIN_LENGTH = 16


class PasswordError(ValueError):
    """A role's password is missing or too weak; the message names the role and the rule."""


def env_name(role: Role) -> str:
    return f"EAFLOW_REDIS_PASSWORD_{role.value.upper()}"


def password_for(
    role: Role, env: Mapping[str, str] | None = None, password_dir: Path | None = None
) -> str:
    """The password of `role`: its file in `password_dir` first, else its variable."""
    env = os.environ if env is None else env
    source = env_name(role)
    password = env.get(source, "")
    if password_dir is not None and (path := password_dir / role.value).is_file():
        source = str(path)
        password = path.read_text().strip()
    if not password:
        where = f"{password_dir / role.value} or " if password_dir is not None else ""
        raise PasswordError(f"password of {role.value}: missing (set {where}{env_name(role)})")
    if len(password) < MIN_LENGTH:
        raise PasswordError(
            f"password of {role.value}: shorter than {MIN_LENGTH} characters (from {source})"
        )
    return password


def passwords_for(
    roles: Iterable[Role], env: Mapping[str, str] | None = None, password_dir: Path | None = None
) -> dict[Role, str]:
    return {role: password_for(role, env, password_dir) for role in roles}


def generate(roles: Iterable[Role], password_dir: Path) -> list[Role]:
    """Write a random password file (mode 0600) for each role that has none; returns those."""
    password_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for role in roles:
        path = password_dir / role.value
        if path.exists():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")
        made.append(role)
    return made


def redact_url(url: str) -> str:
    """`url` with its password replaced by `***`, for logs and banners."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
