"""Users and roles of a shared docqa server, with salted, slow password hashes, in the database.

Roles, each including the one before: ``reader`` asks; ``editor`` also uploads and deletes
documents; ``admin`` also manages users and sees every workspace. Passwords are stored only as
bcrypt hashes (cost 12, ~0.2 s a check) of their SHA-256, so that a password of any length
counts whole (bcrypt alone reads 72 bytes); API tokens only as their SHA-256.

Example:
    >>> users = UserStore(open_database(settings))
    >>> users.add("ana", "a long passphrase", "editor")
    >>> users.verify("ana", "a long passphrase")
    'editor'
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast

import bcrypt
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from docqa.db.database import Database
from docqa.db.schema import TokenRow, UserRow
from docqa.errors import DocQAError

Role = Literal["reader", "editor", "admin"]
ROLES: tuple[Role, ...] = ("reader", "editor", "admin")
MIN_PASSWORD_CHARS = 8
BCRYPT_ROUNDS = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class UserError(DocQAError, ValueError):
    """A user command that cannot be carried out as given; the message says what to change."""


@dataclass(frozen=True)
class User:
    """One account: its name and role (the hash never leaves ``UserStore``)."""

    name: str
    role: Role

    def may(self, role: Role) -> bool:
        """Whether this user holds ``role`` or a higher one."""
        return ROLES.index(self.role) >= ROLES.index(role)


def _prehash(password: str) -> bytes:
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """A salted bcrypt hash of ``password`` (of its SHA-256, so any length counts)."""
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode("ascii")


def check_password(password: str, hashed: str) -> bool:
    """Whether ``password`` matches ``hashed`` (a ``hash_password`` result)."""
    try:
        return bcrypt.checkpw(_prehash(password), hashed.encode("ascii"))
    except ValueError:  # a damaged hash in the file matches nothing
        return False


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> str:
    # Checked for unknown names, so that a wrong name costs the same time as a wrong password.
    return hash_password("docqa: no such user", rounds)


def check_name(name: str) -> str:
    """``name`` if it is a valid user name, else a ``UserError`` saying what is allowed."""
    if not _NAME.match(name):
        raise UserError(
            f"Invalid user name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-', "
            "starting with a letter or digit."
        )
    return name


def check_role(role: str) -> Role:
    """``role`` if it is a known role, else a ``UserError`` listing them."""
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; use one of {', '.join(ROLES)}.")
    return cast(Role, role)


class UserStore:
    """The users in the database. With no users, the web server runs unprotected, which
    ``docqa.web`` allows on a loopback address only."""

    def __init__(self, db: Database, rounds: int = BCRYPT_ROUNDS) -> None:
        self.db = db
        self.rounds = rounds

    def exists(self) -> bool:
        """Whether there is at least one user (protection is on)."""
        with self.db.reading() as session:
            return session.scalars(select(UserRow.name).limit(1)).first() is not None

    def users(self) -> list[User]:
        """Every user, by name."""
        with self.db.reading() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.name)).all()
            return [User(row.name, check_role(row.role)) for row in rows]

    def get(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        with self.db.reading() as session:
            row = session.get(UserRow, name)
            return None if row is None else User(row.name, check_role(row.role))

    def add(self, name: str, password: str, role: str, *, replace: bool = False) -> User:
        """Add a user (or, with ``replace``, set an existing user's password and role).

        Raises:
            UserError: for an invalid name or role, a password under 8 characters, or a name
                already taken without ``replace``.
        """
        check_name(name)
        checked_role = check_role(role)
        if len(password) < MIN_PASSWORD_CHARS:
            raise UserError(
                f"The password is too short: use at least {MIN_PASSWORD_CHARS} characters."
            )
        hashed = hash_password(password, self.rounds)
        taken = UserError(
            f"User {name!r} already exists: remove it first, or use --replace to set "
            "a new password and role."
        )
        try:
            with self.db.transaction() as session:
                row = session.get(UserRow, name)
                if row is not None and not replace:
                    raise taken
                if row is None:
                    session.add(UserRow(name=name, role=checked_role, password_hash=hashed))
                else:
                    row.role, row.password_hash = checked_role, hashed
        except IntegrityError:  # added by another process at the same moment
            raise taken from None
        return User(name, checked_role)

    def remove(self, name: str) -> None:
        """Remove a user, with their tokens and workspace grants.

        Raises:
            UserError: when there is no such user (nothing is changed).
        """
        with self.db.transaction() as session:
            row = session.get(UserRow, name)
            if row is None:
                raise UserError(f"No user {name!r}; 'docqa user list' shows the users.")
            session.execute(delete(TokenRow).where(TokenRow.user_name == name))
            session.delete(row)

    def create_token(self, name: str) -> str:
        """A new API token for ``name`` (shown once; only its SHA-256 is stored).

        Raises:
            UserError: when there is no such user.
        """
        token = "dq_" + secrets.token_urlsafe(32)
        with self.db.transaction() as session:
            if session.get(UserRow, name) is None:
                raise UserError(f"No user {name!r}; add it first with 'docqa user add'.")
            session.add(TokenRow(digest=_token_digest(token), user_name=name))
        return token

    def verify_token(self, token: str) -> User | None:
        """The user a bearer token belongs to, or None."""
        # Looked up by its SHA-256: equal digests are all that match, and the digest of a
        # guess reveals nothing about the stored ones' prefixes.
        with self.db.reading() as session:
            row = session.get(TokenRow, _token_digest(token))
            user = None if row is None else session.get(UserRow, row.user_name)
            return None if user is None else User(user.name, check_role(user.role))

    def verify(self, name: str, password: str) -> Role | None:
        """The role of ``name`` when ``password`` is right, else None (same cost either way)."""
        with self.db.reading() as session:
            row = session.get(UserRow, name)
            found = None if row is None else (row.password_hash, row.role)
        if found is None:
            check_password(password, _dummy_hash(self.rounds))
            return None
        if not check_password(password, found[0]):
            return None
        return check_role(found[1])


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
