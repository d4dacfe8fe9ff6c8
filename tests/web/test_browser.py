"""End to end in a real browser: Debian's chromium driven by Playwright clicks through a preference study.

Skips (with the reason) where /usr/bin/chromium or the playwright package is absent; never
downloads a browser.
"""

from __future__ import annotations

import pytest

from microverse.human import study as hs
from microverse.store import studies as store
from microverse.testing.studies import video_bytes

pytestmark = [pytest.mark.web, pytest.mark.slow]
FPS = 8  # the test videos' real rate; the player must step 1/8 s per frame, not the old 1/16 s guess


def video_time(page) -> float:
    return page.evaluate("document.querySelector('video').currentTime")


@pytest.mark.parametrize("suffix,codec", [(".webm", "libvpx-vp9"), (".mp4", "libx264")])  # H.264: what generators write
def test_click_through_preference_study(tmp_path, site_factory, live_server, chrome, suffix, codec):
    site = site_factory(tmp_path, video_bytes(frames=16, fps=FPS, suffix=suffix, codec=codec))
    with live_server(site.db) as url:
        page = chrome.page()
        page.goto(url + "/")
        page.fill("#token", "mv_not_a_token")
        page.click("#login")
        assert "unknown rater token" in page.inner_text("main")
        page.fill("#token", site.tokens["pref/ann"])
        page.click("#login")
        page.wait_for_url(url + "/study/pref")
        page.click("#continue")
        page.wait_for_url("**/item/*")
        first = page.url.rsplit("/", 1)[1]
        assert "<script>alert(1)</script>" in page.inner_text("#prompt")  # shown as text, not run

        # video playback with frame scrubbing at the file's own rate
        assert page.get_attribute("#player-A", "data-fps") == "8.0"
        assert "8 fps" in page.inner_text("#player-A")
        page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=10000)
        assert page.evaluate("document.querySelector('video').duration") == pytest.approx(16 / FPS, abs=0.3)
        page.evaluate("""() => { const s = document.querySelector('.scrubber');
                                 s.value = 500; s.dispatchEvent(new Event('input')); }""")
        page.wait_for_function("Math.abs(document.querySelector('video').currentTime - 1.0) < 0.15")
        start = video_time(page)
        page.keyboard.press(".")   # one frame forward on every player
        page.wait_for_function(f"document.querySelector('video').currentTime > {start}")
        one = video_time(page)
        page.keyboard.press(".")
        page.wait_for_function(f"document.querySelector('video').currentTime > {one}")
        two = video_time(page)
        page.click("#player-A button.step[data-step='-1']")
        page.wait_for_function(f"document.querySelector('video').currentTime < {two}")
        back = video_time(page)
        assert two - one == pytest.approx(1 / FPS, abs=1e-3) and two - back == pytest.approx(1 / FPS, abs=1e-3)
        assert int(one * FPS) == int(start * FPS + 1e-3) + 1   # the first step lands in the next frame
        assert back == pytest.approx(one, abs=1e-3)
        page.wait_for_function("document.querySelector('#player-A .time').textContent.includes('frame')")
        frame = int(page.inner_text("#player-A .time").rsplit(" ", 1)[1])
        assert frame == int(back * FPS) + 1   # the frame counter names the frame shown (1-based)

        # keyboard: 2 picks video B for the current question (scientific), 0 a tie for visual
        chrome.submit_key(page, "2")
        page.wait_for_selector("#q-scientific.answered")
        chrome.submit_key(page, "0")
        page.wait_for_url(lambda u: not u.endswith("/" + first))  # item done: on to the next one
        second = page.url.rsplit("/", 1)[1]
        # mouse: A for scientific, then C for visual
        page.click("#q-scientific button[value=A]")
        page.wait_for_selector("#q-scientific.answered")
        page.click("#q-visual button[value=C]")
        page.wait_for_url(url + "/study/pref")
        assert page.is_visible("#all-done")

        # going back shows my own answers, and changing one goes through the revision check
        page.goto(f"{url}/study/pref/item/{first}")
        assert page.get_attribute("#q-scientific button[value=B]", "class") == "picked"
        page.click("#q-scientific button[value=A]")
        page.wait_for_selector("#q-scientific button[value=A].picked")

        strict = chrome.login(url, site.tokens["pref/bob"], bypass_csp=False)
        violations: list[str] = []
        strict.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        strict.click("#continue")
        strict.wait_for_url("**/item/*")
        strict.wait_for_load_state()
        chrome.submit_key(strict, "1")  # the static script runs under the policy: the shortcut works
        strict.wait_for_selector("#q-scientific.answered")
        assert violations == []
    assert chrome.dialogs == []

    conn = store.open_studies(site.db)
    study = store.get_study(conn, "pref")
    shown = {key: hs.layout(study, "ann", store.get_item(conn, study, key)) for key in (first, second)}
    rows = {(r["item_key"], r["question"]): (r["answer"], r["revision"])
            for r in conn.execute("SELECT * FROM study_answers WHERE rater = 'ann'")}
    assert rows == {
        (first, "scientific"): (shown[first][0], 2),
        (first, "visual"): ("tie", 1),
        (second, "scientific"): (shown[second][0], 1),
        (second, "visual"): (shown[second][2], 1),
    }
    assert conn.execute("SELECT count(*) FROM study_answer_log WHERE rater = 'ann'").fetchone()[0] == 5
    assert conn.execute("SELECT count(*) FROM study_answers WHERE rater = 'bob'").fetchone()[0] == 1
    conn.close()


def test_assigned_rater_sees_only_their_items_and_resumes_after_a_restart(tmp_path, live_server, chrome):
    from microverse.testing.studies import make_assigned_study

    db, tokens = make_assigned_study(tmp_path, 6, ["ann", "bob", "cy"], 2, seed=2)
    token = tokens["ann"]
    conn = store.open_studies(db)
    mine = store.assignment(conn, store.get_study(conn, "p"))["ann"]
    conn.close()
    assert len(mine) == 4  # 6 tasks x 2 raters / 3

    with live_server(db) as url:
        page = chrome.login(url, token)
        assert page.inner_text("#progress") == "0/4 items done"
        assert page.locator("table.items tr.open").count() == 4
        page.click("#continue")
        page.wait_for_url("**/item/*")
        done = [page.url.rsplit("/", 1)[1]]
        chrome.submit_key(page, "1")
        page.wait_for_url(lambda u: not u.endswith("/" + done[0]))
        done.append(page.url.rsplit("/", 1)[1])
        chrome.submit_key(page, "0")
        page.wait_for_url(lambda u: not u.endswith("/" + done[1]))
        outside = next(str(t) for t in range(6) if str(t) not in mine)
        page.goto(f"{url}/study/p/item/{outside}")
        assert "not assigned to you" in page.inner_text("#error")
    with live_server(db) as url:   # a restarted server: same list, on where she stopped
        page = chrome.login(url, token)
        assert page.inner_text("#progress") == "2/4 items done"
        page.click("#continue")
        page.wait_for_url("**/item/*")
        third = page.url.rsplit("/", 1)[1]
        assert third in mine and third not in done
    assert chrome.dialogs == []
    conn = store.open_studies(db)
    rows = conn.execute("SELECT item_key, answer FROM study_answers WHERE rater = 'ann' ORDER BY answered_at, rowid")
    assert [r[0] for r in rows] == done and set(done) <= set(mine)
    conn.close()
