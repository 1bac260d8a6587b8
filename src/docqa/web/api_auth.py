"""Who calls the JSON API, and how the service's refusals answer over HTTP.

Both ways to sign in (HTTP Basic, and a Bearer token from ``docqa token create NAME``) are
declared through ``fastapi.security``, as the schemes "HTTPBasic" and "HTTPBearer", so that the
OpenAPI description shows them. A ``DocQAError`` raised while serving a route becomes the HTTP
status it stands for; a 401 always carries the Basic challenge, so that a client knows to sign in.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import HTTPException, Request, Security
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from docqa.errors import DocQAError
from docqa.service import LibraryService, ServiceError
from docqa.users import User, UserStore


def challenge(detail: str) -> HTTPException:
    """A 401 that asks for credentials, saying why the ones sent (if any) were not enough."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Basic realm="docqa"'})


class _Basic(HTTPBasic):
    """HTTP Basic as ``fastapi.security`` declares it (so the OpenAPI description shows it),
    decoding the credentials as UTF-8: FastAPI's own reading accepts ASCII passwords only."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not value:
            return None
        try:
            name, colon, password = base64.b64decode(value).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise challenge("Malformed Basic credentials.") from None
        if not colon:
            raise challenge("Malformed Basic credentials: expected NAME:PASSWORD.")
        return HTTPBasicCredentials(username=name, password=password)


# Neither scheme refuses on its own (auto_error=False): a server without users is open, and
# ``authenticate`` gives one message whichever way of signing in was missing.
_BASIC = _Basic(
    scheme_name="HTTPBasic",
    realm="docqa",
    auto_error=False,
    description="A user's name and password.",
)
_BEARER = HTTPBearer(auto_error=False, description="A token from 'docqa token create NAME'.")


def authenticate(
    users: UserStore | None,
    basic: HTTPBasicCredentials | None,
    bearer: HTTPAuthorizationCredentials | None,
) -> str | None:
    """The name the request's credentials belong to (None: the server has no users).

    Raises:
        HTTPException: 401 without valid credentials.
    """
    if users is None:
        return None
    user: User | None = None
    if bearer is not None:
        user = users.verify_token(bearer.credentials.strip())
    elif basic is not None:
        role = users.verify(basic.username, basic.password)
        user = User(basic.username, role) if role else None
    if user is None:
        raise challenge("Sign in: HTTP Basic (name and password) or a Bearer token.")
    return user.name


def caller(service: LibraryService) -> Callable[..., str | None]:
    """The dependency that signs a request's caller in to ``service``: their name, or None
    when the server has no users (a loopback-only server is open, as the page is)."""
    users = service.state.users if service.protected else None

    def signed_in_caller(
        basic: HTTPBasicCredentials | None = Security(_BASIC),  # noqa: B008 - FastAPI's way
        bearer: HTTPAuthorizationCredentials | None = Security(_BEARER),  # noqa: B008
    ) -> str | None:
        return authenticate(users, basic, bearer)

    return signed_in_caller


def page_or_api_caller(service: LibraryService, app: Any) -> Callable[..., str | None]:
    """``caller``, also accepting the page's own sign-in (Gradio's session cookie): for the
    read-only views a page opens in a new tab. Never for a request that changes anything, so
    that another site cannot make a signed-in browser change the library."""
    users = service.state.users if service.protected else None
    cookie_names = [f"access-token-{getattr(app, 'cookie_id', '')}"]
    cookie_names.append(f"access-token-unsecure-{getattr(app, 'cookie_id', '')}")

    def signed_in_caller(
        request: Request,
        basic: HTTPBasicCredentials | None = Security(_BASIC),  # noqa: B008 - FastAPI's way
        bearer: HTTPAuthorizationCredentials | None = Security(_BEARER),  # noqa: B008
    ) -> str | None:
        if users is not None and basic is None and bearer is None:
            tokens = getattr(app, "tokens", {})
            for name in cookie_names:
                who = tokens.get(request.cookies.get(name, ""))
                if who:
                    return str(who)
        return authenticate(users, basic, bearer)

    return signed_in_caller


def _http_error(exc: DocQAError) -> HTTPException:
    """A refusal of the service as its HTTP status; any other error is the request's fault."""
    status = exc.status if isinstance(exc, ServiceError) else 400
    if status == 401:
        return challenge(str(exc))
    return HTTPException(status, str(exc))


@contextmanager
def answering() -> Iterator[None]:
    """Turn a ``DocQAError`` raised inside into the HTTP answer it stands for."""
    try:
        yield
    except DocQAError as exc:
        raise _http_error(exc) from None
