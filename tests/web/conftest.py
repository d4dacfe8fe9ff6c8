"""A study database with a preference and an annotation study, raters and their tokens; and, for
the browser tests, a live server on 127.0.0.1 plus Debian's chromium driven by Playwright.

The browser fixtures skip (with the reason) where /usr/bin/chromium or the playwright package
is absent; they never download a browser.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from microverse.bench.canonical import write_canonical
from microverse.human import study as hs
from microverse.store import studies as store
from microverse.testing.studies import make_benchmark, make_videos

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


@dataclass
class Site:
    db: Path
    root: Path
    tokens: dict[str, str]   # "study/rater" -> token


def build_site(root: Path, video_bytes: bytes = b"fake video bytes") -> Site:
    benchmark = make_benchmark()
    bench = write_canonical(benchmark, root / "bench.json")
    folders = make_videos(root, ["MicroVerse", "Sora", "Veo3"], range(3), video_bytes)
    db = root / "studies.db"
    conn = store.open_studies(db)
    pref = hs.create_preference_study(conn, "pref", benchmark, str(bench), folders,
                                      dimensions=["scientific", "visual"], tasks=[0, 1], seed=1)
    ann = hs.create_annotation_study(conn, "ann", benchmark, str(bench), {"Sora": folders["Sora"]}, tasks=[0])
    tokens = {f"pref/{k}": v for k, v in hs.add_raters(conn, pref, ["ann", "bob"]).items()}
    tokens |= {f"ann/{k}": v for k, v in hs.add_raters(conn, ann, ["expert"]).items()}
    conn.close()
    return Site(db, root, tokens)


@pytest.fixture
def site(tmp_path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def site_factory():
    """``build_site`` itself, for tests that need real video bytes."""
    return build_site


@contextmanager
def _live_server(db: Path) -> Iterator[str]:
    import uvicorn

    from microverse.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


@pytest.fixture
def live_server() -> Callable[[Path], contextmanager]:
    """``with live_server(db) as url:`` serves ``db`` on a free loopback port (a fresh app each time,
    so a test can stop and restart the server)."""
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    return _live_server


class Chrome:
    """Debian's chromium, headless. Pages it opens record JavaScript dialogs in ``dialogs``
    (an escaping bug would open one)."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.dialogs: list[str] = []

    def page(self, *, bypass_csp: bool = True):
        """A new page. Playwright's wait_for_function evaluates strings, which our CSP forbids, so
        driving pages bypass it; a test checks the real policy in a page that keeps it."""
        page = self.browser.new_page(bypass_csp=bypass_csp)
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        return page

    @staticmethod
    def submit_key(page, key: str) -> None:
        """Press a shortcut that submits a form, and wait until the page it leads to has loaded:
        only then is the deferred script wired up, so the next key press is not lost."""
        with page.expect_navigation():
            page.keyboard.press(key)

    def login(self, url: str, token: str, **kwargs):
        """A new page logged in with ``token``, on the study overview."""
        page = self.page(**kwargs)
        page.goto(url + "/")
        page.fill("#token", token)
        page.click("#login")
        page.wait_for_url("**/study/*")
        return page


@pytest.fixture
def chrome() -> Iterator[Chrome]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found (install Debian's chromium: apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield Chrome(browser)
        finally:
            browser.close()
