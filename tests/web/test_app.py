"""The web app over HTTP: login, own answers only, duplicate votes, escaping, no path traversal."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
from fastapi.testclient import TestClient  # noqa: E402

from microverse.human import study as hs  # noqa: E402
from microverse.store import studies as store  # noqa: E402
from microverse.web.app import create_app  # noqa: E402


def client_for(site, study_rater: str | None = None, **kwargs) -> TestClient:
    client = TestClient(create_app(site.db, **kwargs))
    if study_rater:
        response = client.post("/login", data={"token": site.tokens[study_rater]}, follow_redirects=False)
        assert response.status_code == 303
    return client


def answers(site):
    conn = store.open_studies(site.db)
    rows = conn.execute("SELECT rater, item_key, question, answer, revision FROM study_answers ORDER BY 1,2,3").fetchall()
    log = conn.execute("SELECT count(*) FROM study_answer_log").fetchone()[0]
    conn.close()
    return [tuple(r) for r in rows], log


def test_login(site):
    client = client_for(site)
    assert "Rater login" in client.get("/").text
    bad = client.post("/login", data={"token": "mv_wrong"})
    assert bad.status_code == 403 and "unknown rater token" in bad.text
    ok = client.post("/login", data={"token": site.tokens["pref/ann"]}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/study/pref"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    page = client.get("/study/pref")
    assert page.status_code == 200 and "rater: <b>ann</b>" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_not_logged_in_and_other_study(site):
    anonymous = client_for(site)
    assert anonymous.get("/study/pref").status_code == 403
    assert anonymous.post("/study/pref/item/0/answer", data={"question": "scientific", "choice": "A"}).status_code == 403
    expert = client_for(site, "ann/expert")
    response = expert.get("/study/pref/item/0")
    assert response.status_code == 403 and "another study" in response.text
    response = expert.post("/study/pref/item/0/answer", data={"question": "scientific", "choice": "A"})
    assert response.status_code == 403
    assert answers(site) == ([], 0)


def test_vote_is_saved_blinded_and_private(site):
    ann = client_for(site, "pref/ann")
    page = ann.get("/study/pref/item/0").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page  # escaped task text
    main = page.split("<main>", 1)[1]
    assert all(model not in main for model in ("MicroVerse", "Sora", "Veo3"))  # blinded
    response = ann.post("/study/pref/item/0/answer", data={"question": "scientific", "choice": "B", "revision": ""},
                        follow_redirects=False)
    assert response.status_code == 303
    study = store.get_study(store.open_studies(site.db), "pref")
    item = store.get_item(store.open_studies(site.db), study, "0")
    expected_model = hs.layout(study, "ann", item)[1]
    rows, log = answers(site)
    assert rows == [("ann", "0", "scientific", expected_model, 1)] and log == 1
    # the page now shows ann's pick; bob's page shows none
    assert 'class="picked"' in ann.get("/study/pref/item/0").text
    bob = client_for(site, "pref/bob")
    assert 'class="picked"' not in bob.get("/study/pref/item/0").text

    # duplicate vote (a stale form without the revision) is refused, nothing changes
    dup = ann.post("/study/pref/item/0/answer", data={"question": "scientific", "choice": "A", "revision": ""})
    assert dup.status_code == 409 and "already answered" in dup.text
    assert answers(site) == (rows, 1)
    # a change names the revision it saw
    ann.post("/study/pref/item/0/answer", data={"question": "scientific", "choice": "tie", "revision": "1"})
    assert answers(site)[0] == [("ann", "0", "scientific", "tie", 2)]


@pytest.mark.parametrize("data,status,message", [
    ({"question": "scientific", "choice": "Z"}, 400, "invalid choice"),
    ({"question": "smell", "choice": "A"}, 400, "no question"),
    ({"question": "scientific", "choice": "A", "revision": "x"}, 400, "invalid revision"),
])
def test_bad_answers_change_nothing(site, data, status, message):
    ann = client_for(site, "pref/ann")
    response = ann.post("/study/pref/item/0/answer", data=data)
    assert response.status_code == status and message in response.text
    assert answers(site) == ([], 0)


def test_unknown_item_and_study(site):
    ann = client_for(site, "pref/ann")
    assert ann.get("/study/pref/item/99").status_code == 404
    assert ann.post("/study/pref/item/99/answer", data={"question": "scientific", "choice": "A"}).status_code == 404
    assert ann.get("/study/nope").status_code == 403
    assert answers(site) == ([], 0)


def test_video_served_by_slot_only(site):
    ann = client_for(site, "pref/ann")
    ok = ann.get("/study/pref/video/0/A")
    assert ok.status_code == 200 and ok.content == b"fake video bytes"
    for url in ["/study/pref/video/0/D", "/study/pref/video/0/..%2F..%2Fbench.json",
                "/study/pref/video/..%2F..%2Fbench.json/A", "/study/pref/video/0/main",
                "/study/pref/video/0/%2Fetc%2Fpasswd", "/static/..%2F..%2F..%2Fbench.json",
                "/static/%2e%2e/app.py", "/study/pref/video/0/A/../../../../bench.json"]:
        response = ann.get(url)
        assert response.status_code in (400, 403, 404), url
        assert b"tasks" not in response.content and b"root:" not in response.content, url
    assert client_for(site).get("/study/pref/video/0/A").status_code == 403  # not logged in


def test_video_outside_folders_is_refused_even_if_the_database_says_so(site):
    conn = store.open_studies(site.db)
    study = store.get_study(conn, "ann")
    secret = site.root / "secret.txt"
    secret.write_text("top secret")
    conn.execute("UPDATE study_items SET payload = json_set(payload, '$.video', ?) WHERE study_id = ?",
                 (str(secret), study.id))
    # and a symlink inside a video folder pointing out of it
    folder = site.root / "videos" / "Sora"
    os.symlink(secret, folder / "link.mp4")
    conn.close()
    expert = client_for(site, "ann/expert")
    response = expert.get("/study/ann/video/0:Sora/main")
    assert response.status_code == 404 and b"top secret" not in response.content
    conn = store.open_studies(site.db)
    conn.execute("UPDATE study_items SET payload = json_set(payload, '$.video', ?) WHERE study_id = ?",
                 (str(folder / "link.mp4"), study.id))
    conn.close()
    assert expert.get("/study/ann/video/0:Sora/main").status_code == 404
    # an extra folder given to the server allows it
    allowed = client_for(site, "ann/expert", extra_video_folders=[site.root])
    assert allowed.get("/study/ann/video/0:Sora/main").content == b"top secret"


def test_annotation_flow(site):
    expert = client_for(site, "ann/expert")
    page = expert.get("/study/ann/item/0:Sora").text
    assert "membranes &lt;b&gt;fuse&lt;/b&gt; correctly" in page
    for criterion in ("scientific:0", "scientific:1", "visual:0", "instruction:0"):
        response = expert.post("/study/ann/item/0:Sora/answer", data={"question": criterion, "choice": "1"},
                               follow_redirects=False)
        assert response.status_code == 303
    assert response.headers["location"] == "/study/ann"  # last item done: back to the overview
    assert "All items are done" in expert.get("/study/ann").text
    assert len(answers(site)[0]) == 4


def test_serve_refuses_remote_bind_without_flag(site):
    from typer.testing import CliRunner

    from microverse.cli.app import app

    result = CliRunner().invoke(app, ["serve", "--db", str(site.db), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--allow-remote" in result.output
    result = CliRunner().invoke(app, ["serve", "--db", str(site.root / "missing.db")])
    assert result.exit_code == 2 and "database not found" in result.output


def test_players_step_at_the_file_rate_or_not_at_all(tmp_path, site_factory, site):
    from microverse.testing.studies import video_bytes

    real = site_factory(tmp_path / "real", video_bytes(frames=4, fps=12, suffix=".mp4", codec="libx264"))
    page = client_for(real, "pref/ann").get("/study/pref/item/0").text
    assert page.count('data-fps="12.0"') == 3 and "12 fps" in page and "disabled" not in page
    page = client_for(real, "ann/expert").get("/study/ann/item/0:Sora").text
    assert 'data-fps="12.0"' in page

    # the default site's videos are not videos: no rate, so stepping is off and says why
    page = client_for(site, "pref/ann").get("/study/pref/item/0").text
    assert "data-fps" not in page and page.count("Frame stepping is off") == 3
    assert page.count('class="step" data-step="1" title="next frame (.)" disabled') == 3


def test_static_assets_are_cached_under_a_content_hash(site):
    from microverse.web.app import asset_version

    client = client_for(site, "pref/ann")
    version = asset_version()
    page = client.get("/study/pref/item/0")
    assert f'src="/static/app.js?v={version}"' in page.text and f'href="/static/app.css?v={version}"' in page.text
    assert page.headers["cache-control"] == "no-store"          # pages are never cached
    script = client.get(f"/static/app.js?v={version}")
    assert script.status_code == 200 and "immutable" in script.headers["cache-control"]
    assert "default-src 'none'" in script.headers["content-security-policy"]
    assert "immutable" not in client.get("/static/missing.js").headers.get("cache-control", "")
