"""Workspaces, kept conversations and feedback on the web page, in a real headless Chromium.

One server over a NATO copy (``default``) and a second workspace, ``falcons``, with its own
small corpus; no users on a loopback server, so the page is an admin and sees both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from docqa.settings import load_settings
from docqa.state import State
from test_ui_api import NATO_NAME, copy_nato, running_app
from test_ui_browser import ask, browser, open_page, shot  # noqa: F401 (browser: a fixture)

FALCON_NAME = "falcon-care.md"
FALCONS = (
    "# Kestrel Ridge aviary\n\nThe Kestrel Ridge aviary was founded in 1987 by the "
    "ornithologist Ines Duarte. It houses twelve peregrine falcons. The falcons are fed quail "
    "every morning at dawn.\n"
)
HOSTILE_TITLE = '<img src=x onerror="window.__pwned=1"> Delegation & <b>co</b>'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The page over NATO (``default``) and ``falcons``, created before the server starts."""
    root = tmp_path_factory.mktemp("ui-workspaces")
    corpus, index = copy_nato(root)
    falcons = root / "falcons"
    falcons.mkdir()
    (falcons / FALCON_NAME).write_text(FALCONS, encoding="utf-8")
    settings = load_settings(index_dir=index, corpus_dir=corpus)
    State.open(settings).workspaces.create("falcons", corpus_dir=falcons)
    with running_app(corpus, index) as url:
        yield {"url": url, "settings": settings}


@pytest.fixture
def page(browser: Browser, served: dict[str, Any]) -> Iterator[Page]:  # noqa: F811
    with open_page(browser, served["url"]) as opened:
        yield opened


def answered(page: Page, question: str, turns: int) -> None:
    """Ask ``question`` and wait for its final answer: ``turns`` answers in the chat (the first
    words of the last one start the event), then no event still running."""
    ask(page, question)
    expect(page.locator("#docqa-chat .message.bot")).to_have_count(turns)
    expect(page.locator(".generating, .pending")).to_have_count(0)
    expect(page.locator("#docqa-sources")).not_to_contain_text("Collecting")
    expect(page.locator("#docqa-conversations input:checked")).to_have_count(1)


def chat_html(page: Page) -> list[str]:
    return [m.inner_html() for m in page.locator("#docqa-chat .message-row").all()]


def sources_html(page: Page) -> str:
    """The HTML the page put in the sources panel (without Gradio's own status markup)."""
    shown = "#docqa-sources :is(.docqa-sources, .docqa-abstain, .docqa-empty)"
    return str(page.locator(shown).first.evaluate("e => e.parentElement.innerHTML"))


def listed(page: Page) -> list[str]:
    return page.locator("#docqa-conversations label").all_inner_texts()


def select(page: Page, title: str) -> None:
    page.locator("#docqa-conversations label").filter(has_text=title).click()


def pick_workspace(page: Page, name: str) -> None:
    page.locator("#docqa-workspace input").click()
    page.get_by_role("option", name=name).click()
    expect(page.locator("#docqa-workspace input")).to_have_value(name)


def test_a_kept_conversation_comes_back_exactly_and_takes_feedback(
    page: Page, served: dict[str, Any]
) -> None:
    """Two turns, reloaded and resumed: the same chat and sources, to the character; a thumbs
    up lands in the database on the right answer."""
    answered(page, "Who led the Iraqi delegation?", 1)
    expect(page.locator("#docqa-sources")).to_contain_text(NATO_NAME)
    answered(page, "What is Tom Goffus's role?", 2)
    before_chat, before_sources = chat_html(page), sources_html(page)
    assert "Goffus" in before_sources
    shot(page, "ws-1-conversation")

    page.reload()
    expect(page.locator("#docqa-status")).to_contain_text("Ready", timeout=90_000)
    expect(page.locator("#docqa-chat .message.bot")).to_have_count(0)
    expect(page.locator("#docqa-conversations")).to_contain_text("Who led the Iraqi delegation?")
    select(page, "Who led the Iraqi delegation?")
    expect(page.locator("#docqa-chat .message.bot")).to_have_count(2)
    expect(page.locator("#docqa-rename input")).to_have_value("Who led the Iraqi delegation?")
    assert chat_html(page) == before_chat
    assert sources_html(page) == before_sources
    shot(page, "ws-2-resumed")

    likes = page.locator("#docqa-chat .message-buttons-left").first
    likes.get_by_role("button", name="Like", exact=True).click()
    expect(page.locator("#docqa-feedback-note")).to_contain_text("feedback on this answer is kept")
    kept = State.open(served["settings"]).feedback.of_workspace("default")
    assert [(f.kind, f.question) for f in kept] == [("up", "Who led the Iraqi delegation?")]

    answered(page, "When was the NATO Mission in Iraq established?", 3)  # resumed: kept there
    page.reload()
    select(page, "Who led the Iraqi delegation?")
    expect(page.locator("#docqa-chat .message.bot")).to_have_count(3)


def test_each_workspace_answers_from_its_own_documents(page: Page, served: dict[str, Any]) -> None:
    """The second workspace cites only its document; asked about NATO it abstains, and "this
    passage answers it" on a closest passage is kept as feedback in that workspace."""
    pick_workspace(page, "falcons")
    expect(page.locator("#docqa-status")).to_contain_text("Ready", timeout=90_000)
    expect(page.locator("#docqa-conversations label")).to_have_count(0)  # none kept here yet
    answered(page, "Who founded the Kestrel Ridge aviary?", 1)
    expect(page.locator("#docqa-chat .message.bot").last).to_contain_text("Ines Duarte")
    cited = page.locator("#docqa-sources .docqa-loc").all_inner_texts()
    assert cited and all(FALCON_NAME in c for c in cited), cited

    answered(page, "Who led the Iraqi delegation?", 2)
    assert NATO_NAME not in page.locator("#docqa-sources").inner_text()
    assert "al-Araji" not in page.locator("#docqa-chat .message.bot").last.inner_text()
    shot(page, "ws-3-other-workspace")
    expect(page.locator("#docqa-passage-pick")).to_be_visible()
    page.locator("#docqa-passage-answers").click()
    expect(page.locator("#docqa-feedback-note")).to_contain_text("passage 1 answers")
    kept = State.open(served["settings"]).feedback.of_workspace("falcons")
    assert [(f.kind, f.question) for f in kept] == [("passage", "Who led the Iraqi delegation?")]
    assert kept[0].passage is not None and kept[0].passage["source"] == FALCON_NAME

    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#docqa-documents")).to_contain_text(FALCON_NAME)
    assert NATO_NAME not in page.locator("#docqa-documents").inner_text()
    expect(page.locator("#docqa-role-note")).to_have_text("")  # no users: an admin, unnamed


def test_rename_and_delete_last_across_a_reload(page: Page) -> None:
    """A conversation renamed (its title shown as text, never as HTML) and another deleted."""
    answered(page, "When was the NATO Mission in Iraq established?", 1)
    page.locator("#docqa-rename input").fill(HOSTILE_TITLE)
    page.locator("#docqa-rename-button").click()
    expect(page.locator("#docqa-conversations")).to_contain_text(HOSTILE_TITLE)
    page.locator("#docqa-new-conversation").click()
    expect(page.locator("#docqa-chat .message.bot")).to_have_count(0)
    answered(page, "Who is the aviary keeper of NATO?", 1)
    doomed = page.locator("#docqa-rename input").input_value()
    page.locator("#docqa-delete-conversation").click()
    expect(page.locator("#docqa-chat .message.bot")).to_have_count(0)

    page.reload()
    expect(page.locator("#docqa-conversations")).to_contain_text(HOSTILE_TITLE)
    assert doomed not in listed(page)
    shot(page, "ws-4-renamed")
    assert page.locator("#docqa-conversations img, #docqa-conversations b").count() == 0
    assert page.evaluate("window.__pwned") is None
