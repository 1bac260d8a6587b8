"""The web page in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from test_ui_api import copy_nato, running_app

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
EVIL = (
    "# Falcon memo\n\nThe falcon aviary feeds its birds at dawn. "
    '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=1"> '
    "The aviary keeper is Ines Duarte.\n"
)
TIMEOUT = 30_000
expect.set_options(timeout=TIMEOUT)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # A missing browser is a broken set-up, not a reason to skip: .ci/run installs it.
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    corpus, index = copy_nato(tmp_path_factory.mktemp("ui-browser"))
    with running_app(corpus, index) as address:
        yield address


@contextmanager
def open_page(browser: Browser, url: str) -> Iterator[Page]:
    """A fresh browser context on ``url``, once the page says the index is ready."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    expect(page.locator("#docqa-status")).to_contain_text("Ready", timeout=90_000)
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser, url: str) -> Iterator[Page]:
    with open_page(browser, url) as opened:
        yield opened


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def ask(page: Page, question: str) -> None:
    box = page.locator("#docqa-question textarea")
    box.fill(question)
    box.press("Enter")


def last_bot_message(page: Page) -> str:
    return page.locator("#docqa-chat .message.bot").last.inner_text()


def test_question_streams_an_answer_with_sources(page: Page) -> None:
    ask(page, "Who led the Iraqi delegation?")
    bot = page.locator("#docqa-chat .message.bot").last
    expect(bot).to_contain_text("al-Araji")
    shot(page, "1-answer-streaming")
    expect(page.locator("#docqa-sources mark").first).to_be_visible()
    expect(page.locator("#docqa-sources")).to_contain_text("chars")
    assert "[1]" in last_bot_message(page)
    shot(page, "2-answer-with-sources")


def test_the_answer_phrase_comes_first_in_bold(page: Page) -> None:
    """A question that asks for a date gets the date first, in bold, above the cited sentence,
    and marked inside the quote in the sources panel."""
    ask(page, "In what year was the NATO Mission in Iraq established?")
    sources = page.locator("#docqa-sources")
    expect(sources.locator("mark strong.docqa-phrase").first).to_have_text("2018")
    bot = page.locator("#docqa-chat .message.bot").last
    expect(bot.locator("strong").first).to_have_text("2018")
    text = bot.inner_text().strip()
    assert text.startswith("2018") and "established at Iraq’s request in 2018" in text


def test_upload_lists_the_document_and_escapes_html(page: Page, tmp_path: Path) -> None:
    evil = tmp_path / "falcon-memo.md"
    evil.write_text(EVIL, encoding="utf-8")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#docqa-upload input[type=file]").set_input_files(str(evil))
    expect(page.locator("#docqa-upload")).to_contain_text("falcon-memo.md")
    page.locator("#docqa-add").click()
    expect(page.locator("#docqa-upload-status")).to_contain_text("Added falcon-memo.md")
    expect(page.locator("#docqa-documents")).to_contain_text("falcon-memo.md")
    shot(page, "3-document-uploaded")

    page.get_by_role("tab", name="Ask").click()
    ask(page, "When does the falcon aviary feed its birds?")
    expect(page.locator("#docqa-chat .message.bot").last).to_contain_text("dawn")
    sources = page.locator("#docqa-sources")
    expect(sources.locator("mark").first).to_be_visible()
    expect(sources).to_contain_text("falcon-memo.md")
    ask(page, "Who is the aviary keeper?")
    reply = page.locator("#docqa-chat .message.bot").last
    expect(reply).to_contain_text("Ines Duarte. [")
    expect(reply).to_contain_text('<script>window.__pwned=1</script> <img src=x onerror="window')
    expect(sources.locator("mark").last).to_contain_text("Duarte")
    expect(sources).to_contain_text("<script>window.__pwned=1</script>")
    expect(sources).to_contain_text('<img src=x onerror="window.__pwned=1">')
    shot(page, "4-html-shown-as-text")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#docqa-sources script, #docqa-sources img").count() == 0
    assert page.locator("#docqa-chat script, #docqa-chat img[src=x]").count() == 0


def test_readme_screenshot(page: Page) -> None:
    """The picture in README.md: the page answering a NATO question.

    Written to test-artifacts/ui/5-readme.png; copy it to docs/screenshot.png to refresh the
    README (a test run never rewrites a tracked file).
    """
    ask(page, "In what year was the NATO Mission in Iraq established?")
    expect(page.locator("#docqa-sources mark strong.docqa-phrase").first).to_be_visible()
    page.wait_for_timeout(300)  # let the last streamed words settle
    target = ARTIFACTS / "5-readme.png"
    page.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 20_000
