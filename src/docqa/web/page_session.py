"""What every handler of the web page shares: who signed in, and how the service's refusals
reach the page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import gradio as gr

from docqa.errors import DocQAError


@contextmanager
def page_errors() -> Iterator[None]:
    """A refusal or error of the service, shown on the page as Gradio's error message."""
    try:
        yield
    except DocQAError as exc:
        raise gr.Error(str(exc)) from None


def who_signed_in(request: gr.Request | None) -> str | None:
    """The name the page session signed in with (None without sign-in)."""
    return getattr(request, "username", None) or None
