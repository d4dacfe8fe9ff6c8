"""A whole build through the CLI against a fake OpenAI-compatible server: tasks, classify (with a
malformed answer), screening, rubric drafts (with a weight out of range), expert revision, export."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from microverse.bench.loading import load_benchmark
from microverse.bench.models import Dimension, Level
from microverse.cli.app import app
from microverse.store import builds as store
from microverse.testing.fake_openai import FakeChatServer

runner = CliRunner()
VIDEOS = [
    {"id": "v1", "title": "Heart pumping blood", "description": "Ventricles contract.", "url": "https://x/1",
     "licence": "CC-BY", "views": 1200},
    {"id": "v2", "title": "Neutrophil migration", "description": "A neutrophil crawls."},
    {"id": "v3", "title": "Protein folding", "description": "A chain folds."},
    {"id": "v4", "title": "Kidney filtration", "description": "Glomeruli filter."},
]
LEVEL_ANSWERS = {"Heart": "**1. Organ-level simulations**", "Neutrophil": "2. Cellular-level simulations – migration",
                 "Protein": "Category: sub-cellular level"}
RUBRIC = {
    "a1": "Scientific Fidelity", "d1": "The main structure is anatomically correct", "s1": "+1", "w1": "1.0",
    "a2": "Visual Quality", "d2": "Rendering is sharp", "s2": "", "w2": 0.5,
    "a3": "Instruction Following", "d3": "Shows the described process", "s3": "+1", "w3": "1.5",
}


class Script:
    """Answers by prompt; the kidney classification is ambiguous once, then clear."""

    def __init__(self) -> None:
        self.kidney_asked = 0

    def __call__(self, prompt: str) -> str | int:
        if "The video title is:" in prompt:
            title = prompt.split("The video title is:")[1].split("The video description")[0].strip()
            return f"A breathtaking microscopic view of {title.lower()}, rendered in\nexquisite detail with textures."
        if "classify it into one of the following categories" in prompt:
            for key, answer in LEVEL_ANSWERS.items():
                if key.lower() in prompt.split("The task description is:")[1].lower():
                    return answer
            self.kidney_asked += 1
            return "Organ-level or cellular-level" if self.kidney_asked == 1 else "Organ-level simulations"
        if "design a set of rubrics" in prompt:
            return "```json\n" + json.dumps(RUBRIC, indent=1) + "\n```"
        return 400


def run(*args, ok=True):
    result = runner.invoke(app, ["build", *args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def llm(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret-key")
    with FakeChatServer(Script()) as server:
        yield server


def test_full_build(tmp_path, llm):
    db = tmp_path / "build.sqlite"
    sources = tmp_path / "videos.jsonl"
    sources.write_text("\n".join(json.dumps(v) for v in VIDEOS) + "\n")
    common = ["--db", str(db), "--model", "gpt-test", "--base-url", llm.base_url]

    run("tasks", str(sources), *common)
    conn = store.open_build(db)
    rows = store.tasks(conn)
    assert [r["task"] for r in rows] == [1, 2, 3, 4]
    assert "heart pumping blood" in rows[0]["requirement"] and "\n" not in rows[0]["requirement"]
    asked = len(llm.requests)
    again = run("tasks", str(sources), *common)  # resume: nothing left to ask
    assert "0 answered, 4 already done" in again.stdout and len(llm.requests) == asked

    bad = run("classify", *common, ok=False)       # the kidney answer names two levels
    assert bad.exit_code == 2 and "1 item(s) got no usable answer" in bad.output
    levels = {r["task"]: r["level"] for r in store.tasks(conn)}
    assert levels == {1: "Organ-level", 2: "Cellular-level", 3: "Subcellular-level", 4: None}
    kept = store.answers(conn, "classify")["4"]
    assert kept.status == "parse_error" and kept.raw == "Organ-level or cellular-level"
    run("classify", *common)                        # rerun asks only the failed one
    assert {r["task"]: r["level"] for r in store.tasks(conn)}[4] == "Organ-level"
    run("set-level", "--db", str(db), "--task", "4", "--level", "cellular")
    run("classify", *common, "--redo")              # a manual level survives the classifier
    assert {r["task"]: (r["level"], r["level_origin"]) for r in store.tasks(conn)}[4] == ("Cellular-level", "manual")

    votes = tmp_path / "votes.csv"
    votes.write_text("expert,task,approve,rationale\n" + "\n".join(
        f"{e},{t},{int(t != 3 or e == 'e1')},ok" for e in ("e1", "e2", "e3") for t in (1, 2, 3, 4)) + "\n")
    screened = run("screen", "--db", str(db), "--votes", str(votes), "--format", "json")
    assert json.loads(screened.stdout)["selected"] == [1, 2, 4]

    run("rubrics", *common)
    drafts = store.drafts(conn)
    assert sorted(drafts) == [1, 2, 4]
    assert drafts[1][2]["flags"] == ["weight_out_of_range:1.5"]
    blocked = run("export", "--db", str(db), "--out", str(tmp_path / "out"), ok=False)
    assert blocked.exit_code == 2 and "3 criteria cannot be exported" in blocked.output

    actions = tmp_path / "actions.jsonl"
    records = [{"expert": e, "task": t, "op": "reweight", "criterion": 3, "weight": 0.5, "rationale": "secondary"}
               for e in ("e1", "e2") for t in (1, 2, 4)]
    records += [{"expert": "e3", "task": 1, "op": "delete", "criterion": 2, "rationale": "trivial"},
                {"expert": "e1", "task": 1, "op": "edit", "criterion": 2, "polarity": "-1", "rationale": "flaw"}]
    actions.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(records[0]) + "\n" + json.dumps({**records[0], "task": 3}) + "\n")
    refused = run("revise", str(broken), "--db", str(db), ok=False)
    assert refused.exit_code == 2 and "unknown task 3" in refused.output and store.actions(conn) == []
    run("revise", str(actions), "--db", str(db))
    report = json.loads(run("revision-report", "--db", str(db), "--format", "json").stdout)
    assert report["actions"]["e1"] == {"delete": 0, "reweight": 3, "edit": 1, "supplement": 0}
    assert report["actions"]["e3"]["delete"] == 1
    assert {(c["task"], c["criterion"], c["attribute"]) for c in report["conflicts"]} == {(1, "2", "polarity")}

    out = tmp_path / "out"
    run("export", "--db", str(db), "--out", str(out))
    loaded = load_benchmark(out).benchmark
    assert [t.index for t in loaded.tasks] == [1, 2, 4]
    assert [t.level for t in loaded.tasks] == [Level.ORGAN, Level.CELLULAR, Level.CELLULAR]
    first = loaded.tasks[0]
    assert [c.weight for c in first.criteria(Dimension.INSTRUCTION)] == [0.5]
    assert [c.polarity for c in first.criteria(Dimension.VISUAL)] == [1]   # e1's polarity edit was a conflict
    canonical = load_benchmark(out / "benchmark.json").benchmark

    def content(bench):
        return [(t.index, t.level, t.prompt, {d: [(c.description, c.polarity, c.weight) for c in cs]
                                              for d, cs in t.rubrics.items() if cs}) for t in bench.tasks]
    assert content(canonical) == content(loaded)
    status = run("status", "--db", str(db))
    assert "drafts: 3" in status.stdout
    # the key never lands in the database
    assert b"sk-test-secret-key" not in db.read_bytes()


def test_stopped_provider_keeps_finished_work(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    sources = tmp_path / "videos.jsonl"
    sources.write_text("\n".join(json.dumps(v) for v in VIDEOS) + "\n")
    db = tmp_path / "b.sqlite"
    with FakeChatServer(lambda prompt: 401) as server:
        result = run("tasks", str(sources), "--db", str(db), "--model", "m", "--base-url", server.base_url, ok=False)
    assert result.exit_code == 2 and "stopped" in result.output
    assert store.tasks(store.open_build(db)) == []


@pytest.mark.parametrize("content,message", [
    ('{"title": ""}\n', "non-empty 'title'"),
    ("not json\n", "not JSON"),
    ('{"title": "a", "id": 1}\n{"title": "b", "id": 1}\n', "appears twice"),
])
def test_bad_sources(tmp_path, content, message):
    path = tmp_path / "s.jsonl"
    path.write_text(content)
    result = run("tasks", str(path), "--db", str(tmp_path / "b.sqlite"), "--model", "m", ok=False)
    assert result.exit_code == 2 and message in result.output
