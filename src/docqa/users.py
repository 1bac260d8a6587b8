"""Users and roles of a shared docqa server: a users file of salted, slow password hashes.

Roles, each including the one before: ``reader`` asks; ``editor`` also uploads and deletes
documents; ``admin`` also manages users. Passwords are stored only as bcrypt hashes (cost 12,
~0.2 s a check) of their SHA-256, so that a password of any length counts whole (bcrypt alone
reads 72 bytes). The file is written atomically with owner-only permissions (0600).

Example:
    >>> users = UserStore(Path(".docqa/users.json"))
    >>> users.add("ana", "a long passphrase", "editor")
    >>> users.verify("ana", "a long passphrase")
    'editor'
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, cast

import bcrypt

from docqa.errors import DocQAError
from docqa.fileio import atomic_write

Role = Literal["reader", "editor", "admin"]
ROLES: tuple[Role, ...] = ("reader", "editor", "admin")
MIN_PASSWORD_CHARS = 8
BCRYPT_ROUNDS = 12
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_FORMAT = "docqa-users/1"


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
    """The users file: read on every call (another process may have changed it), written whole
    and atomically. A missing file means no users: the server then runs unprotected, which
    ``docqa.web`` allows on a loopback address only."""

    def __init__(self, path: Path, rounds: int = BCRYPT_ROUNDS) -> None:
        self.path = path
        self.rounds = rounds
        self._lock = threading.Lock()

    def exists(self) -> bool:
        """Whether a users file is there (protection is on)."""
        return self.path.is_file()

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            users = data["users"]
            if data.get("format") != _FORMAT or not isinstance(users, dict):
                raise ValueError("unknown format")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"The users file {self.path} cannot be read ({exc}). Restore it from a backup, "
                "or delete it and add the users again with 'docqa user add'."
            ) from None
        return {str(k): dict(v) for k, v in users.items()}

    def _write(self, users: dict[str, dict[str, str]]) -> None:
        text = json.dumps({"format": _FORMAT, "users": users}, indent=2, sort_keys=True)
        atomic_write(self.path, text + "\n", mode=0o600)

    def users(self) -> list[User]:
        """Every user, by name."""
        return [User(name, check_role(u["role"])) for name, u in sorted(self._read().items())]

    def get(self, name: str) -> User | None:
        """The user called ``name``, or None."""
        entry = self._read().get(name)
        return None if entry is None else User(name, check_role(entry["role"]))

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
        with self._lock:
            users = self._read()
            if name in users and not replace:
                raise UserError(
                    f"User {name!r} already exists: remove it first, or use --replace to set "
                    "a new password and role."
                )
            tokens = users.get(name, {}).get("tokens", "") if replace else ""
            users[name] = {"role": checked_role, "hash": hashed, "tokens": tokens}
            self._write(users)
        return User(name, checked_role)

    def remove(self, name: str) -> None:
        """Remove a user.

        Raises:
            UserError: when there is no such user (the file is left as it was).
        """
        with self._lock:
            users = self._read()
            if name not in users:
                raise UserError(f"No user {name!r}; 'docqa user list' shows the users.")
            del users[name]
            self._write(users)

    def create_token(self, name: str) -> str:
        """A new API token for ``name`` (shown once; only its SHA-256 is stored).

        Raises:
            UserError: when there is no such user.
        """
        token = "dq_" + secrets.token_urlsafe(32)
        digest = hashlib.sha256(token.encode("ascii")).hexdigest()
        with self._lock:
            users = self._read()
            if name not in users:
                raise UserError(f"No user {name!r}; add it first with 'docqa user add'.")
            tokens = [t for t in users[name].get("tokens", "").split(",") if t]
            users[name]["tokens"] = ",".join([*tokens, digest])
            self._write(users)
        return token

    def verify_token(self, token: str) -> User | None:
        """The user a bearer token belongs to, or None."""
        digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
        found = None
        for name, entry in self._read().items():
            for known in entry.get("tokens", "").split(","):
                if known and hmac.compare_digest(known, digest):
                    found = User(name, check_role(entry["role"]))
        return found

    def verify(self, name: str, password: str) -> Role | None:
        """The role of ``name`` when ``password`` is right, else None (same cost either way)."""
        entry = self._read().get(name)
        if entry is None:
            check_password(password, _dummy_hash(self.rounds))
            return None
        if not check_password(password, entry.get("hash", "")):
            return None
        return check_role(entry["role"])
