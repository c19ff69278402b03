"""`eaflow acl`: print the Redis ACL file of a deployment, one user per role."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from eaflow.acl import Role, acl_file, roles_named
from eaflow.cli.options import PrefixOption
from eaflow.passwords import PasswordError, generate, passwords_for
from eaflow.settings import Settings


def acl(
    roles: Annotated[
        list[str] | None,
        typer.Argument(help=f"Roles to include (default all: {', '.join(Role)})."),
    ] = None,
    prefix: PrefixOption = "ea:",
    password_dir: Annotated[
        Path | None,
        typer.Option(
            "--password-dir",
            envvar="EAFLOW_REDIS_PASSWORD_DIR",
            help="Directory of password files named as the roles; else the environment "
            "variables EAFLOW_REDIS_PASSWORD_<ROLE>.",
        ),
    ] = None,
    create: Annotated[
        bool,
        typer.Option("--generate", help="Write random passwords for roles without a file."),
    ] = False,
    user_prefix: Annotated[
        str, typer.Option("--user-prefix", help="Usernames are this plus the role.")
    ] = "eaflow-",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the file here (`-`: stdout).")
    ] = None,
) -> None:
    """Print the ACL file for redis-server --aclfile: passwords as hashes, `default` off."""
    try:
        Settings.model_validate({"prefix": prefix})
        chosen = roles_named(roles) if roles else list(Role)
    except (ValidationError, ValueError) as error:
        raise typer.BadParameter(str(error)) from error
    if create:
        if password_dir is None:
            raise typer.BadParameter("--generate needs --password-dir", param_hint="--generate")
        generate(chosen, password_dir)
    try:
        passwords = passwords_for(chosen, password_dir=password_dir)
    except PasswordError as error:
        raise typer.BadParameter(str(error)) from error
    text = acl_file(prefix, passwords, user_prefix)
    if output is None or str(output) == "-":
        typer.echo(text, nl=False)
    else:
        output.write_text(text)


def register(app: typer.Typer) -> None:
    app.command()(acl)
