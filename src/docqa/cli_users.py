"""``docqa user add|list|remove``: the accounts of a shared web server (see ``users.py``)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

from docqa.users import ROLES, UserError


def add_user_parser(sub: Any) -> None:
    """The ``user`` command and its three subcommands."""
    user = sub.add_parser("user", help="manage the web server's users and roles")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add a user (password asked twice, or from stdin)")
    add.add_argument("name", help="user name")
    add.add_argument("--role", choices=ROLES, default="reader", help="default: reader")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument(
        "--replace", action="store_true", help="set a new password and role for an existing user"
    )
    actions.add_parser("list", help="list the users and their roles")
    token = sub.add_parser("token", help="API tokens for the JSON HTTP API")
    token_actions = token.add_subparsers(dest="token_command", required=True)
    create = token_actions.add_parser("create", help="print a new bearer token for a user")
    create.add_argument("name", help="user name")
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("name", help="user name")


def read_password(from_stdin: bool, stdin: TextIO | None = None) -> str:
    """The new password: one line of standard input, or typed twice at the terminal."""
    stdin = stdin or sys.stdin
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    if not stdin.isatty():
        raise UserError("No terminal to type the password in: pass --password-stdin.")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise UserError("The two passwords differ; nothing was changed.")
    return first


def operator_name() -> str:
    """Who ran the command, for the audit log (the login name, if the system knows it)."""
    try:
        return "cli:" + getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def cmd_user(args: argparse.Namespace, settings: Any) -> int:
    """Run ``docqa user ...`` against the database of ``settings``; every change, or attempt
    to change, goes to the audit log."""
    from docqa.state import State

    state = State.open(settings)
    store, record, where = state.users, state.audit.record, state.db.display_url
    if args.command == "token":
        try:
            token = store.create_token(args.name)
        except UserError as exc:
            record(operator_name(), "token create", args.name, f"failed: {exc}")
            raise
        record(operator_name(), "token create", args.name, "created")
        print(token)
        print(f"(for {args.name}; shown once, only its hash is kept)", file=sys.stderr)
        return 0
    if args.user_command == "list":
        users = store.users()
        if not users:
            print(f"No users in {where}: the web server is unprotected.")
        for user in users:
            print(f"{user.name}\t{user.role}")
        return 0
    action = f"user {args.user_command}"
    try:
        if args.user_command == "add":
            password = read_password(args.password_stdin)
            user = store.add(args.name, password, args.role, replace=args.replace)
            outcome = f"{'replaced' if args.replace else 'added'} ({user.role})"
            print(f"{outcome.split()[0].capitalize()} {user.name} ({user.role}) in {where}")
        else:
            store.remove(args.name)
            outcome = "removed"
            print(f"Removed {args.name} from {where}")
    except UserError as exc:
        record(operator_name(), action, args.name, f"failed: {exc}")
        raise
    record(operator_name(), action, args.name, outcome)
    return 0
