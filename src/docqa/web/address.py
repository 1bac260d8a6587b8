"""Where the web UI listens: command-line flags, then docqa's and Gradio's own variables."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

# Highest priority first: docqa's own variable wins over Gradio's, which wins over the default.
HOST_VARIABLES = ("DOCQA_UI_HOST", "GRADIO_SERVER_NAME")
PORT_VARIABLES = ("DOCQA_UI_PORT", "GRADIO_SERVER_PORT")


def resolve_address(
    host: str | None, port: str | int | None, environ: Mapping[str, str]
) -> tuple[str, int]:
    """The ``(host, port)`` to serve on.

    A flag (``--host``, ``--port``) wins; then ``DOCQA_UI_HOST`` / ``DOCQA_UI_PORT``; then
    Gradio's ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT``; then 127.0.0.1:7860.

    Raises:
        ValueError: when the port is not a whole number from 1 to 65535, naming where it came
            from.

    Example:
        >>> resolve_address(None, None, {"GRADIO_SERVER_PORT": "8080"})
        ('127.0.0.1', 8080)
    """
    chosen_host, _ = _first(host, "--host", HOST_VARIABLES, environ, DEFAULT_HOST)
    raw_port, origin = _first(port, "--port", PORT_VARIABLES, environ, str(DEFAULT_PORT))
    try:
        number = int(str(raw_port).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise ValueError(
            f"The port {raw_port!r} (from {origin}) is not a number from 1 to 65535. "
            f"Fix {origin}, e.g. {PORT_VARIABLES[0]}={DEFAULT_PORT}."
        )
    return str(chosen_host), number


def _first(
    flag: str | int | None,
    flag_name: str,
    variables: tuple[str, ...],
    environ: Mapping[str, str],
    default: str,
) -> tuple[str | int, str]:
    """The first value that is set, and where it came from."""
    if flag is not None and str(flag).strip():
        return flag, flag_name
    for name in variables:
        value = environ.get(name, "").strip()
        if value:
            return value, name
    return default, "the default"
