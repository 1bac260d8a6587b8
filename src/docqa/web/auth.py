"""Sign-in for the web server: the login check, role checks in handlers, and the refusal to
serve a network address without users.

Roles are enforced here, in the handlers, whatever the page shows: a reader who forges an upload
through the API is refused the same as one who clicks.
"""

from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from docqa.users import ROLES, Role, UserStore

MAX_DELAY_SECONDS = 8.0


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (127.0.0.0/8, ::1 or localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_problem(host: str, users: UserStore, no_auth: bool) -> str | None:
    """Why serving on ``host`` must be refused, or None when it may go ahead."""
    if is_loopback(host) or users.exists() or no_auth:
        return None
    return (
        f"refusing to serve {host} without sign-in: there is no users file ({users.path}). "
        "Add a user first: 'docqa user add NAME --role admin' (with the same --index), or pass "
        "--no-auth to serve unprotected."
    )


@dataclass
class LoginGuard:
    """Checks sign-ins against the users file, slowing repeated failures down; Gradio's
    ``auth`` is its ``check`` method.

    After the third failed login for a name, each further attempt waits 0.5 s, doubling up to
    8 s, until a login for that name succeeds. The check runs in a thread, so neither bcrypt's
    ~0.2 s nor the wait blocks other users (Gradio awaits this on its event loop).
    """

    users: UserStore
    free_attempts: int = 3
    failures: dict[str, int] = field(default_factory=dict)

    def delay(self, name: str) -> float:
        """Seconds the next attempt for ``name`` waits."""
        return backoff(self.failures.get(name, 0), self.free_attempts)

    async def check(self, username: str, password: str) -> bool:
        """Whether the name and password are right.

        A coroutine *function* on purpose: Gradio awaits ``auth`` only when
        ``inspect.iscoroutinefunction`` says so, and says so of an async method but not of an
        object with an async ``__call__`` (whose unawaited coroutine would count as a success).
        """
        wait = self.delay(username)
        if wait:
            await asyncio.sleep(wait)
        role = await asyncio.to_thread(self.users.verify, username, password)
        if role is None:
            self.failures[username] = self.failures.get(username, 0) + 1
            return False
        self.failures.pop(username, None)
        return True


def backoff(failures: int, free_attempts: int = 3) -> float:
    """Seconds to wait after ``failures`` failed sign-ins: none for the first ``free_attempts``,
    then 0.5 s doubling up to 8 s."""
    extra = failures - free_attempts
    return 0.0 if extra < 0 else min(MAX_DELAY_SECONDS, 0.5 * 2**extra)


@dataclass
class ClientThrottle:
    """Slows repeated failed sign-ins from one client address, whatever names it tries.

    A thin ASGI wrapper around the server: for each sign-in (a POST to the page's login path, or
    any JSON API request) it waits ``backoff(failures of that client)``, lets the request
    through, and counts the answer: a success clears the count; a refused login (400) or bad
    API credentials (401) add one. Gradio's own login check never sees the client, hence this
    layer; ``LoginGuard`` slows failures per account name as well.
    """

    app: Any
    login_paths: tuple[str, ...] = ("/login", "/login/")
    api_prefix: str = "/api/"
    failures: dict[str, int] = field(default_factory=dict)
    sleep: Any = asyncio.sleep

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        login = scope.get("method") == "POST" and path in self.login_paths
        api = path.startswith(self.api_prefix)
        if scope.get("type") != "http" or not (login or api):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = backoff(self.failures.get(client, 0))
        if wait:
            await self.sleep(wait)

        async def counting_send(message: Any) -> None:
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 0))
                if status < 400:
                    self.failures.pop(client, None)
                elif status == 401 or (login and status == 400):
                    self.failures[client] = self.failures.get(client, 0) + 1
            await send(message)

        await self.app(scope, receive, counting_send)


def throttle_logins(app: Any) -> ClientThrottle:
    """Put a ``ClientThrottle`` in front of a running Starlette/FastAPI ``app``'s middleware."""
    if app.middleware_stack is None:  # built on the first request; build it now to wrap it
        app.middleware_stack = app.build_middleware_stack()
    throttle = ClientThrottle(app.middleware_stack)
    app.middleware_stack = throttle
    return throttle


class RoleError(PermissionError):
    """A signed-in user asked for something their role does not allow."""


def require_role(users: UserStore | None, request: Any, role: Role) -> str | None:
    """The signed-in user's name when they hold ``role`` (None when sign-in is off).

    Raises:
        RoleError: naming the role needed and how to get it.
    """
    if users is None:
        return None
    name = getattr(request, "username", None)
    user = users.get(name) if name else None
    if user is None:
        raise RoleError("Sign in first.")
    if not user.may(role):
        needed = ", ".join(r for r in ROLES if ROLES.index(r) >= ROLES.index(role))
        raise RoleError(
            f"{user.name} is a {user.role}: this needs the role {needed}. Ask an admin to run "
            f"'docqa user add {user.name} --role {role} --replace'."
        )
    return user.name
