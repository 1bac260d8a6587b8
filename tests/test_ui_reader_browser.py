"""The reader in the web page (real headless Chromium): the answer phrase is highlighted inside
the quoted sentence, and an abstention lists the closest passages, marked as not an answer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from unittest import mock

import pytest
from playwright.sync_api import Browser, Page, expect

from test_ui_api import copy_nato, running_app
from test_ui_browser import ask, browser, open_page, shot

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def reader_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    corpus, index = copy_nato(tmp_path_factory.mktemp("ui-reader"))
    with (
        mock.patch.dict(os.environ, {"DOCQA_ANSWERER": "reader"}),
        running_app(corpus, index) as address,
    ):
        yield address


@pytest.fixture
def page(browser: Browser, reader_url: str) -> Iterator[Page]:
    with open_page(browser, reader_url) as opened:
        yield opened


def test_the_answer_phrase_is_highlighted_inside_the_quote(page: Page) -> None:
    ask(page, "When was the NATO Mission in Iraq established?")
    sources = page.locator("#docqa-sources")
    phrase = sources.locator("mark strong.docqa-phrase").first
    expect(phrase).to_be_visible()
    quote = sources.locator("mark").first.inner_text()
    assert phrase.inner_text().strip() and phrase.inner_text() in quote
    bot = page.locator("#docqa-chat .message.bot").last
    assert "[1]" in bot.inner_text()
    # The phrase comes first, in bold, above the cited sentence.
    expect(bot.locator("strong").first).to_have_text(phrase.inner_text().strip())
    assert bot.inner_text().strip().startswith(phrase.inner_text().strip())
    shot(page, "6-reader-answer-phrase")


def test_an_abstention_lists_the_closest_passages_as_not_an_answer(page: Page) -> None:
    ask(page, "What is the boiling point of mercury?")
    sources = page.locator("#docqa-sources")
    expect(sources.locator(".docqa-abstain")).to_contain_text("No answer in the documents")
    expect(sources.locator(".docqa-closest-head")).to_contain_text("not an answer")
    cards = sources.locator(".docqa-source.docqa-closest")
    expect(cards.first).to_be_visible()
    assert 1 <= cards.count() <= 3
    for i in range(cards.count()):
        expect(cards.nth(i).locator(".docqa-not-answer")).to_have_text("not an answer")
        expect(cards.nth(i).locator("mark")).to_be_visible()
    assert sources.locator("strong.docqa-phrase").count() == 0  # nothing presented as answer
    shot(page, "7-reader-closest-passages")
