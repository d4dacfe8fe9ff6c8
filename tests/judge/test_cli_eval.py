"""`microverse eval` as a user runs it: a real subprocess against a real loopback judge."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SECRET
from videos import make_video

from microverse.bench.canonical import write_canonical
from microverse.testing.benchmark import tiny_benchmark
from microverse.testing.fake_judge import FakeJudge

COMPARED = ("task", "dimension", "status", "scores", "reasoning", "raw_response", "failure", "n_criteria")


@pytest.fixture
def setup(tmp_path):
    bench = write_canonical(tiny_benchmark(12), tmp_path / "bench.json")
    videos = tmp_path / "videos"
    for index in range(1, 13):
        make_video(videos / f"{index}.mp4", frames=8)
    return bench, videos


def run_eval(judge, bench, videos, db, *extra, env=None, wait=True):
    command = [sys.executable, "-m", "microverse.cli.app", "eval", str(videos), "--name", "tiny", "--benchmark",
               str(bench), "--base-url", judge.base_url, "--db", str(db), "--judge-model", "fake-judge",
               "--max-attempts", "3", *extra]
    environment = {**os.environ, "OPENAI_API_KEY": SECRET, "COLUMNS": "200", **(env or {})}
    if not wait:
        return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)


def table(db, name="judgments"):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    return sorted(tuple(r[c] for c in COMPARED) for r in conn.execute(f"SELECT * FROM {name}"))


def count(db):
    try:
        return sqlite3.connect(db, timeout=5).execute("SELECT count(*) FROM judge_answers").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_eval_end_to_end_prints_tables_and_resumes(setup, tmp_path):
    bench, videos = setup
    with FakeJudge() as judge:
        judge.rule = lambda prompt: "malformed" if "T5 visual" in prompt else None
        done = run_eval(judge, bench, videos, tmp_path / "s.sqlite")
        assert done.returncode == 0, done.stderr
        assert "Table 1" in done.stdout and "Table 2" in done.stdout and "tiny" in done.stdout
        assert "35 usable, 1 failed" in done.stdout and "task 5 visual" in done.stderr
        n = len(judge.requests)
        judge.rule = None
        again = run_eval(judge, bench, videos, tmp_path / "s.sqlite")
        assert again.returncode == 0 and len(judge.requests) == n + 1  # only the failed one


@pytest.mark.slow
def test_kill_9_then_resume_equals_uninterrupted_run(setup, tmp_path):
    bench, videos = setup
    with FakeJudge(delay_s=0.15) as judge:
        reference = run_eval(judge, bench, videos, tmp_path / "ref.sqlite", "--concurrency", "4")
        assert reference.returncode == 0, reference.stderr
        judge.requests.clear()
        db = tmp_path / "killed.sqlite"
        process = run_eval(judge, bench, videos, db, "--concurrency", "4", wait=False)
        deadline = time.monotonic() + 60
        while count(db) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = children(process.pid)
        assert workers  # frame-extraction processes
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 5
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)  # no orphans left behind
        stored_at_kill = count(db)
        assert 10 <= stored_at_kill < 36
        first = len(judge.requests)
        resumed = run_eval(judge, bench, videos, db, "--concurrency", "4")
        assert resumed.returncode == 0, resumed.stderr
        assert len(judge.requests) - first == 36 - stored_at_kill  # finished work never asked again
        assert first - stored_at_kill <= 4  # at most the calls in flight were lost
    assert table(db) == table(tmp_path / "ref.sqlite")
    assert len(table(db)) == 36


def test_api_key_never_stored_logged_or_shown(setup, tmp_path):
    bench, videos = setup
    with FakeJudge() as judge:
        judge.echo_key_in_errors = True
        judge.rule = lambda p: "echo_key" if "T1 " in p else ("500" if "T2 " in p else None)
        done = run_eval(judge, bench, videos, tmp_path / "s.sqlite")
        judge.rule, judge.default = None, "401"
        stopped = run_eval(judge, bench, videos, tmp_path / "other.sqlite", "--frames", "4")
    assert done.returncode == 0 and stopped.returncode == 2
    assert "refused the API key" in stopped.stderr and "Traceback" not in stopped.stderr
    assert "HTTP 500" in done.stderr  # the failure is reported …
    leaks = [done.stdout, done.stderr, stopped.stdout, stopped.stderr]
    leaks += [p.read_bytes().decode("latin-1") for p in tmp_path.glob("*.sqlite*")]
    assert all(SECRET not in text for text in leaks)  # … but never with the key
    assert "***" in sqlite3.connect(tmp_path / "s.sqlite").execute(
        "SELECT raw_response FROM judge_answers WHERE task = 1").fetchone()[0]


def test_dry_run_sends_nothing_and_writes_nothing(setup, tmp_path):
    bench, videos = setup
    with FakeJudge() as judge:
        done = run_eval(judge, bench, videos, tmp_path / "s.sqlite", "--dry-run", env={"OPENAI_API_KEY": ""})
        assert judge.requests == []
    assert done.returncode == 0, done.stderr
    assert "36 (12 videos" in done.stdout and "tokens" in done.stdout and "payload" in done.stdout
    assert not (tmp_path / "s.sqlite").exists()


def test_offline_first_use_says_to_pass_benchmark(tmp_path):
    videos = tmp_path / "videos"
    make_video(videos / "1.mp4", frames=4)
    result = subprocess.run(
        [sys.executable, "-m", "microverse.cli.app", "eval", str(videos), "--name", "m", "--db",
         str(tmp_path / "s.sqlite")], capture_output=True, text=True, timeout=60,
        env={**os.environ, "OPENAI_API_KEY": SECRET, "MICROVERSE_BENCH_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2 and "fetching it once" in result.stderr
    assert "--benchmark" in result.stderr and "Traceback" not in result.stderr
