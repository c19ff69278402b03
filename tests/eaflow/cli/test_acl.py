"""`eaflow acl`: the ACL file of a deployment from passwords in the environment or files."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from eaflow.acl import Role, acl_file
from eaflow.cli.main import app

PASSWORDS = {role: f"{role.value}-password-0123456789" for role in Role}
ENV = {f"EAFLOW_REDIS_PASSWORD_{role.value.upper()}": p for role, p in PASSWORDS.items()}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in [*ENV, "EAFLOW_PREFIX", "EAFLOW_REDIS_PASSWORD_DIR"]:
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_it_prints_every_role_from_the_environment(runner: CliRunner) -> None:
    done = runner.invoke(app, ["acl", "--prefix", "live:"], env=ENV)
    assert done.exit_code == 0, done.output
    assert done.stdout == acl_file("live:", PASSWORDS)
    assert not any(password in done.stdout for password in PASSWORDS.values())


def test_roles_can_be_chosen_and_written_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "users.acl"
    env = {k: v for k, v in ENV.items() if k.endswith(("ROUTER", "SINKS"))}
    done = runner.invoke(app, ["acl", "router", "sinks", "-o", str(out)], env=env)
    assert done.exit_code == 0, done.output
    assert done.stdout == ""
    expected = {Role.ROUTER: PASSWORDS[Role.ROUTER], Role.SINKS: PASSWORDS[Role.SINKS]}
    assert out.read_text() == acl_file("ea:", expected)


def test_dash_as_the_output_is_stdout_not_a_file_named_dash(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`-o -` once wrote the ACL file, password hashes and all, to a file named `-`."""
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["acl", "-o", "-"], env=ENV)
    assert done.exit_code == 0, done.output
    assert done.stdout == acl_file("ea:", PASSWORDS)
    assert not (tmp_path / "-").exists()


def test_generate_fills_the_password_dir(runner: CliRunner, tmp_path: Path) -> None:
    done = runner.invoke(app, ["acl", "--password-dir", str(tmp_path), "--generate"])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(role.value for role in Role)
    again = runner.invoke(app, ["acl", "--password-dir", str(tmp_path)])
    assert again.stdout == done.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["acl"], {}, "password of gateway: missing"),
        (["acl", "trader"], ENV, "unknown role 'trader'"),
        (["acl", "--prefix", "ea*"], ENV, "prefix"),
        (["acl", "--generate"], ENV, "--generate needs --password-dir"),
        (["acl", "router"], {"EAFLOW_REDIS_PASSWORD_ROUTER": "short"}, "shorter than 16"),
    ],
)
def test_bad_input_is_refused_with_the_reason(
    runner: CliRunner, args: list[str], env: dict[str, str], message: str
) -> None:
    done = runner.invoke(app, args, env=env)
    assert done.exit_code == 2
    assert message in " ".join(done.output.split())
