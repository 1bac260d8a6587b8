"""Sign-in for the web server: the login check, slowing repeated failures, the refusal to
serve a network address without users, and the refusal to be framed by other sites.

Roles are enforced by the service layer (``docqa.service``) that every handler calls, whatever
the page shows: a reader who forges an upload through the API is refused as one who clicks.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docqa.users import UserStore

MAX_DELAY_SECONDS = 8.0
FAILURE_MEMORY_SECONDS = 15 * 60.0
"""Failed sign-ins of a name or client are forgotten this long after the last one."""
MAX_FAILURE_KEYS = 10_000
"""At most this many names or clients are remembered (the longest quiet go first)."""


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
        f"refusing to serve {host} without sign-in: the database ({users.db.display_url}) "
        "holds no users. Add a user first: 'docqa user add NAME --role admin' (with the same "
        "--index), or pass --no-auth to serve unprotected."
    )


@dataclass
class FailureCounts:
    """Failed sign-ins per key (an account name or a client address), kept in bounded memory.

    A key's count is forgotten ``ttl`` seconds after its last failure, and at most ``limit``
    keys are kept (the one quiet for longest goes first), so memory stays bounded whatever
    names or addresses an attacker tries.
    """

    ttl: float = FAILURE_MEMORY_SECONDS
    limit: int = MAX_FAILURE_KEYS
    clock: Callable[[], float] = time.monotonic
    # key -> (failures, time of the last one); insertion order is the order of last failures.
    _entries: dict[str, tuple[int, float]] = field(default_factory=dict)

    def get(self, key: str) -> int:
        """Failures of ``key`` still remembered (0 when none, or when they have expired)."""
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry[1] > self.ttl:
            return 0
        return entry[0]

    def add(self, key: str) -> None:
        """Count one more failure of ``key``."""
        count = self.get(key) + 1
        now = self.clock()
        self._entries.pop(key, None)
        self._entries[key] = (count, now)
        self._forget_old(now)

    def clear(self, key: str) -> None:
        """Forget ``key``'s failures (it signed in)."""
        self._entries.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) > 0

    def __len__(self) -> int:
        return len(self._entries)

    def _forget_old(self, now: float) -> None:
        for key, (_, last) in list(self._entries.items()):
            if now - last <= self.ttl and len(self._entries) <= self.limit:
                break  # the rest failed more recently
            del self._entries[key]


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
    failures: FailureCounts = field(default_factory=FailureCounts)

    def delay(self, name: str) -> float:
        """Seconds the next attempt for ``name`` waits."""
        return backoff(self.failures.get(name), self.free_attempts)

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
            self.failures.add(username)
            return False
        self.failures.clear(username)
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
    failures: FailureCounts = field(default_factory=FailureCounts)
    sleep: Any = asyncio.sleep

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = str(scope.get("path", ""))
        login = scope.get("method") == "POST" and path in self.login_paths
        api = path.startswith(self.api_prefix)
        if scope.get("type") != "http" or not (login or api):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("?", 0))[0]
        wait = backoff(self.failures.get(client))
        if wait:
            await self.sleep(wait)

        async def counting_send(message: Any) -> None:
            if message.get("type") == "http.response.start":
                status = int(message.get("status", 0))
                if status < 400:
                    self.failures.clear(client)
                elif status == 401 or (login and status == 400):
                    self.failures.add(client)
            await send(message)

        await self.app(scope, receive, counting_send)


def throttle_logins(app: Any) -> ClientThrottle:
    """Put a ``ClientThrottle`` in front of a running Starlette/FastAPI ``app``'s middleware."""
    throttle: ClientThrottle = _wrap(app, ClientThrottle)
    return throttle


FRAME_HEADERS = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
)


@dataclass
class FrameGuard:
    """Tells browsers that no other site may show the page in a frame (clickjacking): every
    HTTP answer carries ``X-Frame-Options: SAMEORIGIN`` and ``frame-ancestors 'self'``."""

    app: Any

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def guarded_send(message: Any) -> None:
            if message.get("type") == "http.response.start":
                names = {bytes(k).lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in FRAME_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, guarded_send)


def _wrap(app: Any, wrapper: Callable[[Any], Any]) -> Any:
    """Put ``wrapper`` in front of a running Starlette/FastAPI ``app``'s middleware."""
    if app.middleware_stack is None:  # built on the first request; build it now to wrap it
        app.middleware_stack = app.build_middleware_stack()
    app.middleware_stack = wrapper(app.middleware_stack)
    return app.middleware_stack


def refuse_framing(app: Any) -> FrameGuard:
    """Put a ``FrameGuard`` in front of a running Starlette/FastAPI ``app``."""
    guard: FrameGuard = _wrap(app, FrameGuard)
    return guard
