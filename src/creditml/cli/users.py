"""Identity commands: users (init-admin, add, token), login, logout, whoami."""

from __future__ import annotations

from typing import Optional

import typer

from creditml.cli._app import _governance, _signed_in, app, console, handles_errors
from creditml.errors import CreditmlError
from creditml.governance.records import ROLES

users = typer.Typer(help="people and services who act on models, their roles and API tokens",
                    no_args_is_help=True)
app.add_typer(users, name="users")


def _require_admin(doing: str):
    from creditml.governance import AuthError

    actor = _signed_in(doing)
    if not actor.has("admin"):
        raise AuthError(f"{actor.name} may not {doing}: rule role: expected role admin, found roles: "
                        f"{', '.join(sorted(actor.roles)) or 'none'}; fix: sign in as an admin "
                        "(creditml login ADMIN) or ask one")
    return actor


def _password(ask: bool) -> str | None:
    if not ask:
        return None
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _show_token(issued, note: str) -> None:
    console.print(f"API token of [bold]{issued.user}[/] (id {issued.token_id}) {note}; it is shown once and "
                  "cannot be recovered:", highlight=False)
    print(issued.token)


@users.command("init-admin")
@handles_errors
def init_admin(name: str = typer.Argument(..., help="the first admin"),
               password: bool = typer.Option(False, "--password", help="also set a password (prompted)")) -> None:
    """Create the first admin; works only while no user exists. Prints the admin's token once."""
    from creditml.governance import create_first_admin, issue_token

    store = _governance()
    create_first_admin(store, name, _password(password))
    _show_token(issue_token(store, name, "init-admin"), "created")


@users.command("add")
@handles_errors
def add(name: str = typer.Argument(...),
        role: list[str] = typer.Option(..., "--role", help=", ".join(ROLES)),
        password: bool = typer.Option(False, "--password", help="set a password (prompted) for creditml login")) -> None:
    """Create a user with roles (admins only)."""
    from creditml.governance import create_user

    _require_admin(f"add user {name!r}")
    identity = create_user(_governance(), name, tuple(role), _password(password))
    console.print(f"user [bold]{identity.name}[/] created with roles {', '.join(sorted(identity.roles))}",
                  highlight=False)


@users.command("token")
@handles_errors
def token(name: str = typer.Argument(...), label: str = typer.Option("", "--label", help="what the token is for")) -> None:
    """Issue an API token for a user (admins only); shown once, stored hashed."""
    from creditml.governance import issue_token

    _require_admin(f"issue a token for {name!r}")
    _show_token(issue_token(_governance(), name, label), "issued")


@app.command()
@handles_errors
def login(name: str = typer.Argument(..., help="your user name"),
          password: Optional[str] = typer.Option(None, "--password", hidden=True,
                                                 help="for scripts; prompted when absent")) -> None:
    """Sign in with your password; saves a token (mode 0600) in the config dir for later commands."""
    from creditml.governance import authenticate_password, issue_token, save_token

    store = _governance()
    password = password if password is not None else typer.prompt("password", hide_input=True)
    authenticate_password(store, name, password)
    path = save_token(issue_token(store, name, "login").token)
    console.print(f"signed in as [bold]{name}[/]; token saved to {path}", highlight=False)


@app.command()
@handles_errors
def logout() -> None:
    """Forget the saved login token (CREDITML_TOKEN in the environment is not touched)."""
    from creditml.governance import forget_token

    console.print("signed out" if forget_token() else "nobody was signed in through creditml login")


@app.command()
@handles_errors
def whoami() -> None:
    """The signed-in identity and its roles."""
    actor = _signed_in("say who is signed in")
    if not actor.name:
        raise CreditmlError("no identity")
    console.print(f"{actor.name} ({', '.join(sorted(actor.roles)) or 'no roles'})", highlight=False)
