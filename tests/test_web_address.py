"""Where the web UI listens: flags, then DOCQA_UI_*, then Gradio's GRADIO_SERVER_*, then default."""

from __future__ import annotations

import pytest

from docqa.web.address import DEFAULT_HOST, DEFAULT_PORT, resolve_address


def test_default_is_loopback_7860() -> None:
    assert resolve_address(None, None, {}) == (DEFAULT_HOST, DEFAULT_PORT) == ("127.0.0.1", 7860)


def test_gradio_variables_are_honoured() -> None:
    env = {"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8080"}
    assert resolve_address(None, None, env) == ("0.0.0.0", 8080)


def test_docqa_variables_win_over_gradio_ones() -> None:
    env = {
        "GRADIO_SERVER_NAME": "0.0.0.0",
        "GRADIO_SERVER_PORT": "8080",
        "DOCQA_UI_HOST": "127.0.0.2",
        "DOCQA_UI_PORT": "9090",
    }
    assert resolve_address(None, None, env) == ("127.0.0.2", 9090)


def test_flags_win_over_every_variable() -> None:
    env = {"DOCQA_UI_PORT": "9090", "GRADIO_SERVER_PORT": "8080", "GRADIO_SERVER_NAME": "0.0.0.0"}
    assert resolve_address("localhost", "7000", env) == ("localhost", 7000)
    assert resolve_address(None, 7001, env) == ("0.0.0.0", 7001)


def test_blank_values_fall_through() -> None:
    env = {"DOCQA_UI_PORT": "  ", "GRADIO_SERVER_PORT": "8080"}
    assert resolve_address("", None, env) == (DEFAULT_HOST, 8080)


@pytest.mark.parametrize(
    ("port", "env", "origin"),
    [
        ("abc", {}, "--port"),
        (None, {"GRADIO_SERVER_PORT": "70000"}, "GRADIO_SERVER_PORT"),
        (None, {"DOCQA_UI_PORT": "0"}, "DOCQA_UI_PORT"),
    ],
)
def test_a_bad_port_names_where_it_came_from(
    port: str | None, env: dict[str, str], origin: str
) -> None:
    with pytest.raises(ValueError, match=origin) as caught:
        resolve_address(None, port, env)
    assert "1 to 65535" in str(caught.value)


def test_app_main_turns_a_bad_port_into_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from docqa.web.app import main

    monkeypatch.setenv("GRADIO_SERVER_PORT", "not-a-port")
    with pytest.raises(SystemExit) as caught:
        main([])
    message = str(caught.value)
    assert message.startswith("docqa: ") and "GRADIO_SERVER_PORT" in message
    assert "\n" not in message
