"""The sandbox page in headless Chromium: what a teacher does, and what they see.

Skipped (with the reason) when selenium, Chromium or chromedriver is missing. With
``SAVE_SCREENSHOT=1`` the card screenshot is also copied to ``docs/sandbox-card.png``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.sandbox.conftest import SandboxThread, sandbox_config

WAIT = 10.0
SCREENSHOT_COPY = REPO_ROOT / "docs" / "sandbox-card.png"


@pytest.fixture(scope="module")
def sandbox(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxThread]:
    """One sandbox for the module (requested after ``browser``, so a skip starts nothing)."""
    running = SandboxThread(sandbox_config(tmp_path_factory.mktemp("sandbox"))).start()
    try:
        yield running
    finally:
        running.stop()


def text_of(element: Any) -> str:
    """Rendered text with whitespace collapsed (flex items come back one per line)."""
    return " ".join(element.text.split())


class Page:
    """The sandbox page as a person uses it: type, pick, press Enter, click."""

    def __init__(self, driver: Any, sandbox: SandboxThread) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.driver = driver
        self.sandbox = sandbox
        self.By = By
        self.Keys = Keys
        driver.get(sandbox.url)
        self.wait(lambda: driver.find_element(By.TAG_NAME, "body").get_attribute("data-ready"),
                  "the page to start")

    def wait(self, check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        from selenium.common.exceptions import StaleElementReferenceException

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                result = check()
            except StaleElementReferenceException:  # re-rendered while we looked
                result = None
            if result:
                return result
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")

    def find(self, css: str, root: Any = None) -> list[Any]:
        return (root or self.driver).find_elements(self.By.CSS_SELECTOR, css)

    @property
    def composer(self) -> Any:
        return self.driver.find_element(self.By.ID, "composer")

    def type(self, text: str) -> None:
        self.composer.send_keys(text)

    def run(self, command: str) -> None:
        """Type a command and send it (the trailing space leaves the command picker)."""
        self.type(command + " ")
        self.composer.send_keys(self.Keys.ENTER)
        self.wait(lambda: self.composer.get_attribute("value") == "", f"{command} to be sent")

    def as_(self, persona: str) -> None:
        self.find(f'.persona[data-persona="{persona}"]')[0].click()

    def messages(self) -> list[Any]:
        return self.find("#messages article.message")

    def message_titled(self, title: str, *, after: int = 0) -> Any:
        """The newest message (beyond the first ``after``) whose embed has this title."""

        def check() -> Any:
            for article in reversed(self.messages()[after:]):
                titles = [t.text for t in self.find(".embed-title", article)]
                if title in titles and not self.find(".thinking", article):
                    return article
            return None

        return self.wait(check, f"a message titled {title!r}")


@pytest.fixture
def page(browser: Any, sandbox: SandboxThread) -> Page:
    return Page(browser, sandbox)


def test_define_from_autocomplete_shows_the_whole_card_then_a_private_related_card(
    page: Page, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    before = len(page.messages())
    page.type("/define back")
    suggestion = page.wait(
        lambda: [i for i in page.find(".popup-item") if i.get_attribute("data-value") == "backend"],
        "the bot's autocomplete suggestion")[0]
    assert suggestion.text == "backend"
    suggestion.click()
    assert page.composer.get_attribute("value") == "/define backend "
    page.composer.send_keys(page.Keys.ENTER)

    card = page.message_titled("backend", after=before)
    text = text_of(card)
    assert "Student used /define" in text
    assert "The backend refers to the server-side part of a web application" in text
    for section in ("Why it matters", "Example in VCA", "Another Real World Example",
                    "Common mistakes"):
        assert section in text, section
    assert len(page.find(".embed-field-value li", card)) == 5  # the mistakes, as a list
    assert "Only you can see this" not in text  # /define answers the channel
    assert page.find(".embed", card)[0].value_of_css_property("border-left-color") == (
        "rgba(88, 101, 242, 1)")  # the configured colour bar
    labels = [b.text for b in page.find("button.btn", card)]
    assert labels[:3] == ["API routes", "NodeJS", "MySQL"]

    page.driver.set_window_size(1280, 1700)
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'end'})", card)
    time.sleep(0.2)  # let layout settle before the picture
    shot = tmp_path / "card.png"
    assert page.driver.save_screenshot(str(shot))
    if os.environ.get("SAVE_SCREENSHOT") == "1":
        SCREENSHOT_COPY.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT_COPY)
        shot = SCREENSHOT_COPY
    with capsys.disabled():
        print(f"\nsandbox card screenshot: {shot}")
    page.driver.set_window_size(1280, 1000)

    count = len(page.messages())
    next(b for b in page.find("button.btn", card) if b.text == "Server").click()
    private = page.message_titled("Server", after=count)
    assert "ephemeral" in private.get_attribute("class")
    assert "Only you can see this" in private.text

    # Inside a private card a related term replaces it in place, with a way back.
    private_id = private.get_attribute("data-message-id")
    next(b for b in page.find("button.btn", private) if b.text == "NodeJS").click()
    replaced = page.wait(
        lambda: [a for a in page.messages() if a.get_attribute("data-message-id") == private_id
                 and "NodeJS" in [t.text for t in page.find(".embed-title", a)]],
        "the private card to change in place")[0]
    assert "◀️ Back" in [text_of(b) for b in page.find("button.btn", replaced)]
    assert len(page.messages()) == count + 1


def test_reload_is_refused_for_students_and_reports_the_diff_to_moderators(page: Page):
    content_dir = page.sandbox.sandbox.base_config.content_dir
    git = content_dir / "git.yaml"
    original = git.read_text(encoding="utf-8")

    before = len(page.messages())
    page.run("/glossary reload")
    refused = page.message_titled("Moderators only", after=before)
    assert "Only you can see this" in refused.text
    assert "Manage Server" in refused.text

    try:
        page.as_("moderator")
        git.write_text("title: [\n", encoding="utf-8")
        before = len(page.messages())
        page.run("/glossary reload")
        errors = page.message_titled("Reload refused", after=before)
        assert "git.yaml:" in page.find("pre", errors)[0].text  # path:line, in a code block

        git.write_text(original.replace("title: Git", "title: Git (SCM)"), encoding="utf-8")
        before = len(page.messages())
        page.run("/glossary reload")
        report = page.message_titled("Glossary reloaded", after=before)
        assert "Moderator used /glossary reload" in text_of(report)
        assert "Changed (1) git" in text_of(report)
    finally:
        git.write_text(original, encoding="utf-8")
        page.as_("student")


def test_text_from_users_and_files_is_shown_never_run(page: Page):
    before = len(page.messages())
    page.run("/define <img src=x onerror=document.title='owned'>")
    missing = page.message_titled("Term not found", after=before)
    assert "<img src=x onerror=document.title='owned'>" in missing.text
    assert not page.find("#messages img")
    assert page.driver.title != "owned"


def test_what_discord_would_not_send_is_explained_under_the_box(page: Page):
    page.type("/define")
    page.composer.send_keys(page.Keys.ESCAPE, page.Keys.ENTER)
    error = page.wait(lambda: page.driver.find_element(page.By.ID, "composer-error").text,
                      "the composer's error")
    assert "needs a value for term" in error
