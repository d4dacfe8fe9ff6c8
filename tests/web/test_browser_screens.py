"""The annotation, screening and rubric revision screens in a real browser (Debian's chromium via
Playwright): a rater fills the form, submits, the next item is shown, and the store holds the answer.

Skips (with the reason) where /usr/bin/chromium or the playwright package is absent.
"""

from __future__ import annotations

import pytest

from microverse.bench.canonical import write_canonical
from microverse.build import review
from microverse.human import study as hs
from microverse.store import studies as store
from microverse.testing.studies import make_benchmark, make_build, make_videos, video_bytes

pytestmark = [pytest.mark.web, pytest.mark.slow]


def stored(db, study_name: str) -> dict[tuple[str, str, str], tuple[str, dict | None]]:
    conn = store.open_studies(db)
    answers = store.list_answers(conn, store.get_study(conn, study_name))
    conn.close()
    return {(a.rater, a.item_key, a.question): (a.answer, a.detail) for a in answers}


def item_key(page) -> str:
    return page.url.rsplit("/", 1)[1]


def open_first_item(chrome, url: str, token: str):
    """Log in with ``token``, press Continue, and return the page on the rater's first item and its key."""
    page = chrome.login(url, token)
    page.click("#continue")
    page.wait_for_url("**/item/*")
    return page, item_key(page)


def review_study(tmp_path, create, name: str):
    """A build database holding a review study made by ``create`` (screening or revision) with
    one expert, e1: (database, e1's token)."""
    db = make_build(tmp_path / "build.sqlite")
    conn = store.open_studies(db)
    token = hs.add_raters(conn, create(conn, name), ["e1"])["e1"]
    conn.close()
    return db, token


def test_criterion_annotation(tmp_path, live_server, chrome):
    benchmark = make_benchmark(2)
    bench = write_canonical(benchmark, tmp_path / "bench.json")
    folders = make_videos(tmp_path, ["Sora"], range(2), video_bytes(frames=12, fps=12))
    folders |= make_videos(tmp_path, ["Veo3"], range(2))  # not videos: no frame rate
    db = tmp_path / "ann.db"
    conn = store.open_studies(db)
    study = hs.create_annotation_study(conn, "ann", benchmark, str(bench), folders, tasks=[0, 1])
    token = hs.add_raters(conn, study, ["expert"])["expert"]
    conn.close()

    with live_server(db) as url:
        page, first = open_first_item(chrome, url, token)
        assert "<script>alert(1)</script>" in page.inner_text("#prompt")
        assert "membranes <b>fuse</b> correctly" in page.inner_text("#q-scientific-0")  # escaped, shown as text
        if first.endswith(":Sora"):
            assert page.get_attribute("#player-main", "data-fps") == "12.0"
            assert page.is_enabled("#player-main button.step[data-step='1']")
        else:
            assert page.is_visible("#player-main .no-fps")
            assert page.is_disabled("#player-main button.step[data-step='1']")

        # keyboard: 1 marks the current criterion met, 0 not met; j/k move the current one
        assert "current" in page.get_attribute("#q-scientific-0", "class")
        chrome.submit_key(page, "1")
        page.wait_for_selector("#q-scientific-0.answered")
        assert "current" in page.get_attribute("#q-scientific-1", "class")
        chrome.submit_key(page, "0")
        page.wait_for_selector("#q-scientific-1.answered")
        page.keyboard.press("j")  # from visual:0 (first open) to instruction:0
        assert "current" in page.get_attribute("#q-instruction-0", "class")
        page.keyboard.press("k")
        page.keyboard.press("j")
        chrome.submit_key(page, "1")
        page.wait_for_selector("#q-instruction-0.answered")
        assert page.inner_text("#progress") == "0/4 items done"
        # mouse: the last open criterion; the item is done, the next one is shown
        page.click("#q-visual-0 button[value='0']")
        page.wait_for_url(lambda u: not u.endswith("/" + first))
        second = item_key(page)
        assert page.inner_text("#progress") == "1/4 items done"
        assert "item 2 of 4" in page.inner_text(".itemnav")
        assert page.is_visible("#q-scientific-0.current") and not page.is_visible("form.answered")
        # a file the browser cannot play says so (the garbage "videos" of Veo3); a real one does not
        for model, playable in (("Sora", True), ("Veo3", False)):
            page.goto(f"{url}/study/ann/item/1:{model}")
            if playable:
                page.wait_for_function("document.querySelector('video').readyState >= 1")
                assert not page.is_visible("#player-main .play-error")
            else:
                page.wait_for_selector("#player-main .play-error", state="visible")
    assert chrome.dialogs == []
    assert second != first
    assert stored(db, "ann") == {
        ("expert", first, "scientific:0"): ("1", None), ("expert", first, "scientific:1"): ("0", None),
        ("expert", first, "instruction:0"): ("1", None), ("expert", first, "visual:0"): ("0", None)}


def test_expert_screening(tmp_path, live_server, chrome):
    db, token = review_study(tmp_path, review.create_screening_study, "scr")

    with live_server(db) as url:
        page, first = open_first_item(chrome, url, token)
        assert f"Task {first} <script>alert(2)</script>" in page.inner_text("#prompt")
        assert f"Video {first} <script>x</script>" in page.inner_text(".source")
        # n/p move between tasks without answering
        chrome.submit_key(page, "n")
        page.wait_for_url(lambda u: not u.endswith("/" + first))
        chrome.submit_key(page, "p")
        page.wait_for_url(lambda u: u.endswith("/" + first))

        # a rationale typed in the box (typing "0" there must not reject), then approve with the mouse
        page.locator("#q-approve input[name=rationale]").press_sequentially("clear <i>task</i> 0")
        page.click("#q-approve button[value='1']")
        page.wait_for_url(lambda u: not u.endswith("/" + first))
        second = item_key(page)
        assert page.is_visible("#q-approve.current") and not page.is_visible("#q-approve.answered")
        chrome.submit_key(page, "0")   # reject the second task with the shortcut: all done
        page.wait_for_url(url + "/study/scr")
        assert page.is_visible("#all-done")
        page.goto(f"{url}/study/scr/item/{first}")
        assert page.input_value("#q-approve input[name=rationale]") == "clear <i>task</i> 0"
        assert page.get_attribute("#q-approve button[value='1']", "class") == "picked"
    assert chrome.dialogs == []
    assert stored(db, "scr") == {("e1", first, "approve"): ("1", {"rationale": "clear <i>task</i> 0"}),
                                 ("e1", second, "approve"): ("0", None)}


def test_rubric_revision(tmp_path, live_server, chrome):
    db, token = review_study(tmp_path, review.create_revision_study, "rev")

    with live_server(db) as url:
        page, first = open_first_item(chrome, url, token)
        assert "Spindle <b>forms</b>" in page.inner_text("#q-c1")        # the LLM's draft, as text
        assert "weight_out_of_range:1.5" in page.inner_text("#q-c2")    # flagged draft values are visible

        chrome.submit_key(page, "1")   # keep criterion 1
        page.wait_for_selector("#q-c1.answered")
        assert "current" in page.get_attribute("#q-c2", "class")
        page.keyboard.press("k")
        assert "current" in page.get_attribute("#q-c1", "class")
        page.keyboard.press("j")
        assert "current" in page.get_attribute("#q-c2", "class")

        # supplement a missing criterion; the item stays open (criterion 2 is undecided)
        page.select_option("#q-supplements select[name=dimension]", "visual")
        page.select_option("#q-supplements select[name=polarity]", "-1")
        page.fill("#q-supplements input[name=weight]", "0.5")
        page.fill("#q-supplements input[name=description]", "Blurry <img src=x onerror=alert(3)>")
        page.fill("#q-supplements input[name=rationale]", "missing")
        page.click("#q-supplements button[value=add]")
        page.wait_for_selector("#supplements li")
        assert "Blurry <img src=x onerror=alert(3)>" in page.inner_text("#supplements")
        assert item_key(page) == first

        # a change without a rationale is refused with the reason, and nothing is stored
        page.fill("#q-c2 input[name=weight]", "0.5")
        page.click("#q-c2 button[value=reweight]")
        assert "rationale" in page.inner_text("#error")
        page.go_back()
        page.reload()
        page.fill("#q-c2 input[name=weight]", "0.5")
        page.fill("#q-c2 input[name=rationale]", "secondary")
        page.click("#q-c2 button[value=reweight]")
        page.wait_for_url(lambda u: not u.endswith("/" + first))   # the task is decided: the next one
        second = item_key(page)
        assert f"Task {second} <script>alert(2)</script>" in page.inner_text("#prompt")

        # back on the first task: the decision is shown with its values in the fields, ready to change
        chrome.submit_key(page, "p")
        assert item_key(page) == first
        assert "your decision: reweight, weight 0.5 (secondary)" in page.inner_text("#q-c2")
        assert page.get_attribute("#q-c2 button[value=reweight]", "class") == "picked"
        assert page.input_value("#q-c2 input[name=weight]") == "0.5"
        page.fill("#q-c2 input[name=rationale]", "redundant with 1")
        page.click("#q-c2 button[value=delete]")
        page.wait_for_selector("#q-c2 button[value=delete].picked")
        # a second supplement, then the first one removed again
        page.fill("#q-supplements input[name=description]", "Chromatids separate")
        page.fill("#q-supplements input[name=rationale]", "core")
        page.click("#q-supplements button[value=add]")
        page.wait_for_selector("#supplements li:nth-child(2)")
        page.click("#supplements li:nth-child(1) button[value=remove]")
        page.wait_for_function("document.querySelectorAll('#supplements li').length === 1")
        assert "Chromatids separate" in page.inner_text("#supplements")
    assert chrome.dialogs == []
    assert stored(db, "rev") == {
        ("e1", first, "c1"): ("keep", None),
        ("e1", first, "c2"): ("delete", {"rationale": "redundant with 1"}),   # the old weight is not carried
        ("e1", first, "supplements"): ("1", {"supplements": [
            {"dimension": "scientific", "polarity": "+1", "weight": "1.0", "description": "Chromatids separate",
             "rationale": "core"}]}),
    }
    conn = store.open_studies(db)
    study = store.get_study(conn, "rev")
    log = [(a.question, a.answer, a.revision) for a in store.answer_log(conn, study)]
    assert log == [("c1", "keep", 1), ("supplements", "1", 1), ("c2", "reweight", 1), ("c2", "delete", 2),
                   ("supplements", "2", 2), ("supplements", "1", 3)]
    actions = review.actions_from_study(conn, study)
    assert sorted(a.op for a in actions) == ["delete", "supplement"]


def test_a_double_press_or_double_click_answers_once(site, live_server, chrome):
    """A rater who presses a shortcut twice, or double-clicks, gets one answer and no error page
    (without the guard the second post arrived with no revision: 409 "already answered")."""
    with live_server(site.db) as url:
        page, _ = open_first_item(chrome, url, site.tokens["ann/expert"])
        page.keyboard.press("1")
        page.keyboard.press("1")   # on the old page: ignored; on the next one: the next criterion
        page.wait_for_selector("#q-scientific-0.answered")
        page.wait_for_load_state()
        assert page.locator("#error").count() == 0
        pref, _ = open_first_item(chrome, url, site.tokens["pref/ann"])
        pref.dblclick("#q-scientific button[value=A]")
        pref.wait_for_selector("#q-scientific.answered")
        pref.wait_for_load_state()
        assert pref.locator("#error").count() == 0
    conn = store.open_studies(site.db)
    rows = conn.execute("SELECT rater, question, answer, revision FROM study_answers ORDER BY rater, question").fetchall()
    log = conn.execute("SELECT count(*) FROM study_answer_log").fetchone()[0]
    conn.close()
    marks = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    assert marks[("expert", "scientific:0")] == ("1", 1) and marks[("ann", "scientific")][1] == 1
    assert set(marks) - {("expert", "scientific:0"), ("ann", "scientific")} <= {("expert", "scientific:1")}
    assert log == len(rows) and all(r[3] == 1 for r in rows)
