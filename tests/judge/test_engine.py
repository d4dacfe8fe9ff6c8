"""The engine with the real store and a real loopback judge: every judgment stored or failed."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3

import pytest

from microverse.bench.models import Dimension
from microverse.errors import MicroverseError
from microverse.judge.engine import Engine, RunIdentity, RunStats, plan
from microverse.judge.providers import OpenAIChatProvider, ProviderStopped, RetryPolicy
from microverse.judge.videos import scan_videos
from microverse.store.judgments import JudgmentStore, load_model_judgments, open_store
from microverse.testing.benchmark import tiny_benchmark
from microverse.testing.fake_judge import expected_scores

FAST = RetryPolicy(max_attempts=2, base_delay_s=0.0)


def judge_run(db, videos, judge, *, repeats=1, benchmark=None, model="m", reasks=2, breaker=50, name="fake"):
    benchmark = benchmark or tiny_benchmark()
    identity = RunIdentity(model=model, judge=name, repeats=repeats)
    store = JudgmentStore(open_store(db), identity)
    stats = RunStats()
    work = plan(benchmark, scan_videos(videos, benchmark), identity, store.finished(), stats)

    async def go():
        provider = OpenAIChatProvider("fake", base_url=judge.base_url, retry=FAST, concurrency=4,
                                      breaker_threshold=breaker)
        try:
            return await Engine(provider, store, identity, reasks=reasks, concurrency=4, stats=stats).run(work)
        finally:
            await provider.aclose()

    return asyncio.run(go())


def rows(db, table="judgments"):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return {(r["task"], r["dimension"]) + ((r["repeat"],) if table == "judge_answers" else ()): dict(r)
            for r in conn.execute(f"SELECT * FROM {table}")}


def test_every_criterion_reaches_the_judge_and_is_stored(api_key, fake_judge, videos_dir, tmp_path):
    db = tmp_path / "s.sqlite"
    stats = judge_run(db, videos_dir, fake_judge)
    assert stats.calls_total == stats.calls_done == 9 and stats.answers_ok == 9
    stored = rows(db)
    assert len(stored) == 9 and all(r["status"] == "ok" for r in stored.values())
    prompts = {(b["messages"][0]["content"][0]["text"]) for b in fake_judge.requests}
    first_sci = next(p for p in prompts if "T1 scientific" in p)
    assert "criterion 12" in first_sci and "Task 1: show mitosis" in first_sci and "label the spindle" in first_sci
    assert "[penalty point] T1 scientific criterion 3" in first_sci
    assert json.loads(stored[(1, "scientific")]["scores"]) == expected_scores(first_sci)
    assert all(len(b["messages"][0]["content"]) == 9 for b in fake_judge.requests)  # text + 8 frames
    [loaded] = load_model_judgments(db)
    assert loaded.model == "m" and len(loaded.records) == 3
    assert loaded.records[0].dimensions[Dimension.SCIENTIFIC].scores == expected_scores(first_sci)


def test_bad_answers_are_reasked_then_failed_never_zero(api_key, fake_judge, videos_dir, tmp_path):
    db = tmp_path / "s.sqlite"
    seen = {"T1 instruction": 0}

    def rule(prompt):
        if "T2 visual" in prompt:
            return "malformed"  # stays bad
        if "T1 instruction" in prompt:
            seen["T1 instruction"] += 1
            return "wrong_count" if seen["T1 instruction"] == 1 else None  # bad once, then fine
        if "T3 scientific" in prompt:
            return "bad_values"
        return None

    fake_judge.rule = rule
    stats = judge_run(db, videos_dir, fake_judge)
    stored = rows(db)
    assert stored[(1, "instruction")]["status"] == "ok"
    for key, why in (((2, "visual"), "no JSON object"), ((3, "scientific"), "not 0 or 1")):
        assert stored[key]["status"] == "failed" and stored[key]["scores"] is None
        assert "after 3 ask(s)" in stored[key]["failure"] and why in stored[key]["failure"]
    answers = rows(db, "judge_answers")
    assert answers[(2, "visual", 0)]["asks"] == 3 and answers[(1, "instruction", 0)]["asks"] == 2
    assert stats.answers_failed == 2 and stats.reasks == 5
    [loaded] = load_model_judgments(db)
    failed = loaded.records[1].dimensions[Dimension.VISUAL]
    assert failed.failure and failed.scores is None


def test_bad_video_fails_its_judgments_and_run_goes_on(api_key, fake_judge, videos_dir, tmp_path):
    (videos_dir / "2.mp4").write_bytes(b"not a video")
    (videos_dir / "notes.txt").write_text("x")
    (videos_dir / "intro.mp4").write_bytes(b"")
    (videos_dir / "99.mp4").write_bytes(b"")
    db = tmp_path / "s.sqlite"
    benchmark = tiny_benchmark(4)
    scan = scan_videos(videos_dir, benchmark)
    assert scan.missing == [4] and {name for name, _ in scan.stray} == {"notes.txt", "intro.mp4", "99.mp4"}
    stats = judge_run(db, videos_dir, fake_judge, benchmark=benchmark)
    stored = rows(db)
    assert [stored[(2, d.value)]["status"] for d in Dimension] == ["failed"] * 3
    assert stored[(2, "visual")]["failure"].startswith("video: cannot open")
    assert sum(r["status"] == "ok" for r in stored.values()) == 6
    assert stats.bad_videos == [("2.mp4", stats.bad_videos[0][1])]


def test_resume_asks_only_for_what_is_missing(api_key, fake_judge, videos_dir, tmp_path):
    db = tmp_path / "s.sqlite"
    fake_judge.rule = lambda p: "500" if "T2 " in p else None
    judge_run(db, videos_dir, fake_judge)
    assert sum(r["status"] == "failed" for r in rows(db).values()) == 3
    first = rows(db)
    fake_judge.rule = None
    fake_judge.requests.clear()
    judge_run(db, videos_dir, fake_judge)
    assert len(fake_judge.requests) == 3  # only task 2's three dimensions
    second = rows(db)
    assert all(r["status"] == "ok" for r in second.values())
    assert all(second[k]["updated_at"] >= first[k]["updated_at"] and second[k]["scores"] == first[k]["scores"]
               for k in first if first[k]["status"] == "ok")
    fake_judge.requests.clear()
    judge_run(db, videos_dir, fake_judge)
    assert fake_judge.requests == []


def test_changed_rubric_is_judged_again(api_key, fake_judge, videos_dir, tmp_path):
    db = tmp_path / "s.sqlite"
    judge_run(db, videos_dir, fake_judge)
    benchmark = tiny_benchmark()
    task = benchmark.tasks[0]
    task.rubrics[Dimension.VISUAL][0] = task.rubrics[Dimension.VISUAL][0].model_copy(update={"description": "new"})
    fake_judge.requests.clear()
    judge_run(db, videos_dir, fake_judge, benchmark=benchmark)
    assert len(fake_judge.requests) == 1 and "1. [positive point] new" in \
        fake_judge.requests[0]["messages"][0]["content"][0]["text"]


def test_repeats_majority_and_no_mixing(api_key, fake_judge, videos_dir, tmp_path):
    db = tmp_path / "s.sqlite"
    judge_run(db, videos_dir, fake_judge, repeats=1)
    fake_judge.requests.clear()
    judge_run(db, videos_dir, fake_judge, repeats=3)
    assert len(fake_judge.requests) == 18  # repeats 2 and 3 only
    answers = rows(db, "judge_answers")
    assert len(answers) == 27
    with pytest.raises(MicroverseError, match="--settings"):
        load_model_judgments(db)
    k3 = RunIdentity(model="m", judge="fake", repeats=3).settings_hash
    [loaded] = load_model_judgments(db, settings_hash=k3)
    assert "repeats" in loaded.judge
    with pytest.raises(ValueError, match="odd"):
        RunIdentity(model="m", judge="fake", repeats=2)


def test_dead_judge_stops_the_run(api_key, fake_judge, videos_dir, tmp_path):
    db = tmp_path / "s.sqlite"
    fake_judge.default = "401"
    with pytest.raises(ProviderStopped, match="refused the API key"):
        judge_run(db, videos_dir, fake_judge)
    assert len(fake_judge.requests) <= 4 and rows(db) == {}
    fake_judge.default = "500"
    with pytest.raises(ProviderStopped, match="in a row"):
        judge_run(db, videos_dir, fake_judge, breaker=2)
    assert len(fake_judge.requests) < 4 + 9 * 2


def test_agreement_between_two_judges(api_key, fake_judge, videos_dir, tmp_path):
    cohen_kappa_score = pytest.importorskip("sklearn.metrics").cohen_kappa_score
    from typer.testing import CliRunner

    from microverse.cli.app import app
    from microverse.store.judgments import judge_ratings

    db = tmp_path / "s.sqlite"
    judge_run(db, videos_dir, fake_judge, name="judge-a")
    fake_judge.rule = lambda p: "bad_values" if "T3 visual" in p else None  # judge-b misses one dimension
    judge_run(db, videos_dir, fake_judge, name="judge-b", reasks=0)
    ratings = judge_ratings(db, "m")
    a = {item: v for rater, item, v in ratings[Dimension.SCIENTIFIC] if rater == "judge-a"}
    b = {item: v for rater, item, v in ratings[Dimension.SCIENTIFIC] if rater == "judge-b"}
    assert a == b and len(a) == 12 + 4 + 2  # the loopback judge is deterministic: perfect agreement
    visual_b = [item for rater, item, _ in ratings[Dimension.VISUAL] if rater == "judge-b"]
    assert all(task != 3 for task, _ in visual_b)  # failed judgments are not ratings
    result = CliRunner().invoke(app, ["judgments", "agreement", "--db", str(db), "--model", "m", "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["dimensions"]
    keys = sorted(a)
    expected = cohen_kappa_score([a[k] for k in keys], [b[k] for k in keys])
    assert summary["scientific"]["cohen_kappa_pairwise"][0]["kappa"] == pytest.approx(expected)
    assert summary["scientific"]["krippendorff_alpha"] == pytest.approx(1.0)
    assert summary["visual"]["cohen_kappa_pairwise"][0]["n_items"] < len(
        [1 for rater, *_ in ratings[Dimension.VISUAL] if rater == "judge-a"])


def test_chaos_every_judgment_ends_correct_or_failed(api_key, fake_judge, videos_dir, tmp_path):
    import random
    import threading

    rng, lock = random.Random(7), threading.Lock()
    actions = ["ok"] * 6 + ["429:0", "500", "drop", "malformed", "wrong_count", "bad_values", "late:0.05", "empty",
                            "413", "echo_key"]

    def chaos(prompt):
        with lock:
            return rng.choice(actions)

    fake_judge.rule = chaos
    db = tmp_path / "s.sqlite"
    stats = judge_run(db, videos_dir, fake_judge)
    stored = rows(db)
    assert len(stored) == 9 and stats.calls_done == stats.calls_total == 9
    sent: dict[tuple[int, str], list[str]] = {}
    for body in fake_judge.requests:
        text = body["messages"][0]["content"][0]["text"]
        task = int(re.search(r"Task (\d+): show", text).group(1))
        dim = next(d.value for d in Dimension if f"T{task} {d.value} criterion" in text)
        sent.setdefault((task, dim), []).append(text)
    for key, row in stored.items():
        if row["status"] == "ok":
            assert json.loads(row["scores"]) in [expected_scores(p) for p in sent[key]]
        else:
            assert row["scores"] is None and row["failure"]
    assert {r["status"] for r in stored.values()} <= {"ok", "failed"}
    assert api_key not in json.dumps(list(stored.values()))


def test_413_shrinks_the_frames_and_records_what_was_sent(api_key, fake_judge, tmp_path):
    from videos import make_video

    videos = tmp_path / "videos"
    for index in (1, 2, 3):
        make_video(videos / f"{index}.mp4", width=512, height=384, noise=True)
    fake_judge.default = "413big"
    fake_judge.max_image_chars = 60_000  # the 512-px frames are larger, the 256-px ones fit
    db = tmp_path / "s.sqlite"
    judge_run(db, videos, fake_judge)
    answers = rows(db, "judge_answers")
    assert all(r["status"] == "ok" for r in rows(db).values())
    assert {(r["image_width"], r["image_height"]) for r in answers.values()} == {(256, 192)}
    assert all(r["payload_bytes"] <= 60_000 and r["attempts"] >= 2 for r in answers.values())


def test_task_selection(videos_dir):
    from microverse.judge.videos import parse_tasks, restrict

    assert parse_tasks("1-3, 7,9-9") == {1, 2, 3, 7, 9}
    for bad in ("", "a-3", "5-2", "1,,2"):
        with pytest.raises(MicroverseError):
            parse_tasks(bad)
    scan = restrict(scan_videos(videos_dir, tiny_benchmark(5)), {2, 5})
    assert list(scan.videos) == [2] and scan.missing == [5]
    with pytest.raises(MicroverseError, match="none of the chosen"):
        restrict(scan, {4})
