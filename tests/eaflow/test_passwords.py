"""Role passwords from files and the environment, and URLs shown without them."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from eaflow.acl import Role
from eaflow.passwords import (
    PasswordError,
    generate,
    password_for,
    passwords_for,
    redact_url,
    stored_secret,
)

STRONG = "correct-horse-battery-staple"


def test_the_environment_variable_names_the_role() -> None:
    env = {"EAFLOW_REDIS_PASSWORD_ROUTER": STRONG}
    assert password_for(Role.ROUTER, env) == STRONG


def test_a_file_in_the_password_dir_wins_over_the_environment(tmp_path: Path) -> None:
    (tmp_path / "sinks").write_text(STRONG + "-file\n")
    env = {"EAFLOW_REDIS_PASSWORD_SINKS": STRONG}
    assert password_for(Role.SINKS, env, tmp_path) == STRONG + "-file"
    assert password_for(Role.SINKS, {"EAFLOW_REDIS_PASSWORD_SINKS": STRONG}, tmp_path / "no") == (
        STRONG
    )


def test_a_missing_password_names_the_role_and_where_to_put_it(tmp_path: Path) -> None:
    with pytest.raises(PasswordError, match=r"password of gateway: missing .*GATEWAY"):
        password_for(Role.GATEWAY, {})
    where = re.escape(f"{tmp_path / 'ticks'} or EAFLOW_REDIS_PASSWORD_TICKS")
    with pytest.raises(PasswordError, match=where):
        password_for(Role.TICKS, {}, tmp_path)


def test_a_short_password_is_refused_without_showing_it() -> None:
    with pytest.raises(PasswordError, match="password of admin: shorter than 16") as error:
        password_for(Role.ADMIN, {"EAFLOW_REDIS_PASSWORD_ADMIN": "hunter2"})
    assert "hunter2" not in str(error.value)


def test_generate_writes_private_files_and_keeps_existing_ones(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "router").write_text(STRONG)
    made = generate(list(Role), secrets)
    assert made == [role for role in Role if role is not Role.ROUTER]
    assert (secrets / "router").read_text() == STRONG
    for role in made:
        assert stat.S_IMODE((secrets / role.value).stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700  # in a folder only its owner enters
    passwords = passwords_for(Role, {}, secrets)
    assert len(set(passwords.values())) == len(Role)
    assert generate(list(Role), secrets) == []


def test_a_stored_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "var" / "gateway" / "viewer-token"
    first = stored_secret(path)
    assert len(first) >= 32 and stored_secret(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent):  # made by it: 0700
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["viewer-token"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://eaflow-router:s3cr%40t@redis:6379/0", "redis://eaflow-router:***@redis:6379/0"),
        (
            "rediss://:pw@h:6380/0?ssl_ca_certs=/ca.pem",
            "rediss://:***@h:6380/0?ssl_ca_certs=/ca.pem",
        ),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("unix:///run/redis.sock", "unix:///run/redis.sock"),
    ],
)
def test_redact_url_hides_only_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown
