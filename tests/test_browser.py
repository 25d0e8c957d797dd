"""The Signals panel end to end (marker ``browser``): a real CKAN dev server
(``ckan run``, ``debug = true``, the ``ckansig`` plugin) on a real PostgreSQL,
driven by a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, through selenium).

The browser logs in, fails a login, creates an organization and opens the
panel; the test asserts on the page's DOM and saves a screenshot of the panel
in ``$CKANSIG_ARTIFACTS`` (``test-artifacts/`` unless set).

Solr is not available here, and CKAN's organization pages count datasets
through it: ``solr_standin`` answers every search with no results. Nothing
else stands in for anything.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .solr_standin import solr_standin
from .test_ckan import DATABASE, HAVE_CKAN
from .test_webapp import HAVE_TOOLBAR, PASSWORD, web_ini

REQUIRED = os.environ.get("CKANSIG_REQUIRE_BROWSER") == "1"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

try:
    import selenium  # noqa: F401

    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (HAVE_CKAN and DATABASE and HAVE_TOOLBAR and HAVE_SELENIUM and CHROMIUM
             and CHROMEDRIVER) and not REQUIRED,
        reason="needs CKAN, Flask-DebugToolbar, PostgreSQL, selenium and Debian's chromium "
               "and chromium-driver (.ci/run installs them; CKANSIG_REQUIRE_BROWSER=1 there)"),
]

ARTIFACTS = Path(os.environ.get("CKANSIG_ARTIFACTS")
                 or Path(__file__).resolve().parent.parent / "test-artifacts")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until ``ckan run`` at ``url`` answers (fails the test with its log if
    it exits, or after two minutes)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/3/action/status_show", timeout=5):
                return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"ckan run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``ckan run`` on a free port, with the Solr stand-in; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with solr_standin() as solr_url:
        ini = web_ini(tmp_path, solr_url=solr_url, ckan__site_url=url)
        log = (tmp_path / "server.log").open("w")
        ckan = Path(sys.executable).parent / "ckan"
        process = subprocess.Popen(
            [str(ckan), "-c", str(ini), "run", "-H", "127.0.0.1", "-p", str(port),
             "--disable-reloader"], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_up(url, process, tmp_path / "server.log")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # as root, in a closed network: no sandbox, no background connections
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,1800"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()


def click(browser: Any, element: Any) -> None:
    """Click ``element`` even where the debug toolbar covers it (it sits on top)."""
    browser.execute_script("arguments[0].click();", element)


def log_in(browser: Any, url: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/user/login")
    browser.find_element(By.ID, "field-login").send_keys("admin")
    browser.find_element(By.ID, "field-password").send_keys(password)
    form = browser.find_element(By.ID, "field-login").find_element(By.XPATH, "ancestor::form")
    click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def open_panel(browser: Any) -> Any:
    """Show the toolbar if it is hidden, click "Signals"; returns the panel."""
    from selenium.webdriver.common.by import By

    toolbar = browser.find_element(By.ID, "flDebugToolbar")
    if not toolbar.is_displayed():
        browser.find_element(By.ID, "flDebugShowToolBarButton").click()
    browser.find_element(By.CSS_SELECTOR, "#flDebugSignalsPanel a").click()
    panel = browser.find_element(By.ID, "flDebugSignalsPanel-content")
    assert panel.is_displayed()
    return panel


def requests(panel: Any, scope: str) -> list[Any]:
    """The requests the panel shows for ``scope`` ("POST /user/login"), newest first."""
    from selenium.webdriver.common.by import By

    return [element for element in panel.find_elements(By.CSS_SELECTOR, ".ckansig-request")
            if element.get_attribute("data-scope") == scope]


def check_timeline(browser: Any, panel: Any) -> None:
    """The timeline's bars are as wide as their durations (against the time
    the timeline spans), a click on a bar shows its details, and the filter
    hides the rest and says how many sends it hid."""
    from selenium.webdriver.common.by import By

    timeline = panel.find_element(By.CSS_SELECTOR, ".ckansig-timeline")
    span = float(timeline.get_attribute("data-span"))
    rows = timeline.find_elements(By.CSS_SELECTOR, ".ckansig-row")
    assert rows
    measured = browser.execute_script("""
        return [...arguments[0].querySelectorAll('.ckansig-row')].map(row => {
          const track = row.querySelector('.ckansig-track').getBoundingClientRect();
          const bar = row.querySelector('.ckansig-bar').getBoundingClientRect();
          return [parseFloat(row.dataset.offset), parseFloat(row.dataset.duration),
                  track.width, bar.left - track.left, bar.width];
        });""", timeline)
    for offset, duration, track, left, width in measured:
        assert track > 200, track  # the tracks are drawn, beside the labels
        assert abs(left - track * offset / span) <= 1.5, (offset, left, track)
        assert abs(width - max(1.0, track * duration / span)) <= 1.5, (duration, width, track)
    first = rows[0]
    detail = first.find_element(By.XPATH, "following-sibling::div[1]")
    assert not detail.is_displayed()
    click(browser, first)
    assert detail.is_displayed() and "keyword arguments" in detail.text
    signal = first.get_attribute("data-signal")
    search = timeline.find_element(By.CSS_SELECTOR, ".ckansig-filter")
    search.send_keys(signal)
    shown = [row for row in rows if row.is_displayed()]
    assert shown and all(signal in row.get_attribute("data-signal") for row in shown)
    others = {row.get_attribute("data-signal") for row in rows} - {signal}
    if others:
        assert "hidden by the filter" in timeline.find_element(
            By.CSS_SELECTOR, ".ckansig-hidden").text
    search.send_keys("-no-such-signal")
    assert not any(row.is_displayed() for row in rows)
    from selenium.webdriver.common.keys import Keys

    search.send_keys(Keys.CONTROL, "a")
    search.send_keys(Keys.DELETE)  # an input event: every row back
    assert all(row.is_displayed() for row in rows)


def test_login_failed_login_and_an_organization_in_the_panel(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    # a failed login: failed_login is sent by this very request (the page re-renders)
    log_in(browser, server, "not-the-password")
    panel = open_panel(browser)
    current = panel.find_element(By.CSS_SELECTOR, ".ckansig-current")
    assert current.get_attribute("data-scope") == "POST /user/login"
    failed = current.find_element(By.CSS_SELECTOR, '[data-signal="ckan:failed_login"]')
    assert failed.get_attribute("data-sender") == "admin"
    # (the toolbar's own Request Vars panel shows the form's password; ours does not)
    assert "not-the-password" not in panel.get_attribute("innerHTML")
    check_timeline(browser, panel)

    # a login: logged_in is sent by the POST that redirects, shown under earlier requests
    log_in(browser, server, PASSWORD)
    login, failed_login = requests(open_panel(browser), "POST /user/login")
    assert "\u2192 302" in login.text and "\u2192 200" in failed_login.text  # redirect, page
    import ckan

    if tuple(map(int, ckan.__version__.split(".")[:2])) >= (2, 11):  # logged_in: 2.11+
        html = login.get_attribute("innerHTML")
        assert 'data-signal="ckan:logged_in"' in html, html[:2000]

    # an organization, through the form
    browser.get(f"{server}/organization/new")
    browser.find_element(By.ID, "field-name").send_keys("Signal Watchers")
    browser.execute_script(
        "document.getElementById('field-url').value = 'signal-watchers';")
    form = browser.find_element(By.ID, "organization-edit-form")
    click(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit][name=save]"))
    assert browser.current_url.rstrip("/").endswith("/organization/signal-watchers"), \
        browser.current_url
    panel = open_panel(browser)
    [created] = requests(panel, "POST /organization/new")
    action = created.find_element(
        By.CSS_SELECTOR, '.ckansig-send[data-signal="ckan:action_succeed"]'
                         '[data-sender="organization_create"]')
    activity = action.find_element(
        By.CSS_SELECTOR, '.ckansig-receiver[data-receiver$="group_or_org_changed"]')
    assert activity.get_attribute("data-status") == "ok"
    nested = activity.find_element(By.CSS_SELECTOR, ".ckansig-send")
    assert nested.get_attribute("data-signal") == "ckan:action_succeed"
    assert nested.get_attribute("data-sender") == "activity_create"

    # this request's own tree and the wiring of what it sent
    current = panel.find_element(By.CSS_SELECTOR, ".ckansig-current")
    assert current.get_attribute("data-scope") == "GET /organization/signal-watchers"
    assert panel.find_elements(By.CSS_SELECTOR, '.ckansig-wiring tr[data-signal]')
    check_timeline(browser, panel)
    created.find_element(By.TAG_NAME, "summary").click()  # unfold it for the picture
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "signals-panel.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
