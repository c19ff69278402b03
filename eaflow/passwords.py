"""Redis passwords of the roles: read from the environment or a directory, never printed.

A password comes from the file `{password_dir}/{role}` (Docker and Kubernetes secrets are
such files) or else from `EAFLOW_REDIS_PASSWORD_{ROLE}`. URLs that carry one are shown
through `redact_url`. Every file eaflow writes that holds a secret (generated passwords,
the gateway's viewer token, the embedded Redis's data) is mode 0600 in a 0700 directory
(`private_dir`, `stored_secret`).
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


def private_dir(path: Path) -> Path:
    """`path` as a directory only its owner may enter (0700); directories made on the way
    there are 0700 too (existing ones are left as they are)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return path


def write_private(path: Path, text: str) -> bool:
    """Create `path` holding `text`, mode 0600 from its first byte and whole when it appears
    (written aside, then linked in); False (and nothing written) when it already exists."""
    aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
        os.link(aside, path)
    except FileExistsError:
        return False
    finally:
        aside.unlink()
    return True


def stored_secret(path: Path) -> str:
    """The secret kept in `path` (its directory made 0700, the file kept 0600), made (192
    random bits, URL-safe) on first use; two processes starting together agree on one."""
    private_dir(path.parent)
    write_private(path, secrets.token_urlsafe(24) + "\n")
    path.chmod(0o600)
    found = path.read_text().strip()
    if len(found) < MIN_LENGTH:
        raise PasswordError(f"{path}: shorter than {MIN_LENGTH} characters (delete it to renew)")
    return found


def generate(roles: Iterable[Role], password_dir: Path) -> list[Role]:
    """Write a random password file (mode 0600, in a 0700 directory) for each role that has
    none; returns those."""
    private_dir(password_dir)
    made = []
    for role in roles:
        if write_private(password_dir / role.value, secrets.token_urlsafe(32) + "\n"):
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
