"""Captions through the OpenAI-compatible provider layer, against a server on 127.0.0.1."""

from __future__ import annotations

import json
import shutil

import pytest

from microverse.data.caption import PROMPT_VERSION
from microverse.data.manifest import Manifest
from tests.data.caption_server import CaptionServer


@pytest.fixture
def dataset(tmp_path, videos, cli):
    folder = tmp_path / "in"
    folder.mkdir()
    for name, title in (("mixed", "Mitosis in a cell"), ("clean", "terse clip")):
        shutil.copy(videos[name], folder / f"{name}.mp4")
        (folder / f"{name}.json").write_text(json.dumps({"title": title, "description": f"{name} desc"}))
    out = tmp_path / "ds"
    assert cli("data", "ingest", folder, "--out", out).exit_code == 0
    assert cli("data", "split", out, "--min-clip", "0.3").exit_code == 0
    assert cli("data", "filter", out, "--min-side", "64", "--min-duration", "0.5").exit_code == 0
    return out  # kept: mixed 0-30, mixed 75-115, clean 0-36


def test_captions_are_stored_with_model_prompt_version_and_tokens(dataset, cli, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    with CaptionServer(words=150, fail_first=1) as server:
        result = cli("data", "caption", dataset, "--model", "fake-vlm", "--base-url", server.base_url,
                     "--concurrency", "2", "--width", "96")
        assert result.exit_code == 0, result.output
        first_round = len(server.requests)
        # 3 clips; 1 retried 500; the terse one asked twice
        assert first_round == 3 + 1 + 1
        body = server.requests[-1]
        content = body["messages"][-1]["content"]
        assert sum(p["type"] == "image_url" for p in content) == 8
        prompts = [" ".join(p["text"] for p in r["messages"][-1]["content"] if p["type"] == "text")
                   for r in server.requests]
        assert any("Video Title: Mitosis in a cell; Video Description: mixed desc" in p for p in prompts)
        assert any("about 230 words" in p for p in prompts)  # the length re-ask
        # rerun: nothing left to caption
        assert cli("data", "caption", dataset, "--model", "fake-vlm", "--base-url", server.base_url).exit_code == 0
        assert len(server.requests) == first_round
    clips = Manifest(dataset).read("clips").merge(Manifest(dataset).read("sources")[["source_id", "filename"]])
    done = clips[clips["caption.keep"].notna()]
    assert len(done) == 3
    good = done[done["filename"] == "mixed.mp4"]
    assert good["caption.keep"].all() and (good["caption.words"] == 150).all()
    assert good["caption.text"].str.startswith("8 frames show Mitosis in a cell.").all()
    assert set(done["caption.model"]) == {"fake-vlm-1"} and set(done["caption.prompt_version"]) == {PROMPT_VERSION}
    assert (good["caption.prompt_tokens"] == 1000).all() and (good["caption.completion_tokens"] == 150).all()
    terse = done[done["filename"] == "clean.mp4"].iloc[0]
    assert not terse["caption.keep"] and terse["caption.reason"] == "caption too short (5 words < 60)"
    assert terse["caption.prompt_tokens"] == 2000
    assert "sk-test-secret" not in (Manifest(dataset).dir / "clips.parquet").read_bytes().decode("latin-1")
    report = json.loads(cli("data", "report", dataset, "--format", "json").stdout)
    assert report["stages"]["caption"] == {"unit": "clips", "kept": 2, "dropped": 1,
                                           "reasons": {"caption too short": 1}}


def test_missing_key_is_a_clean_error(dataset, cli, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = cli("data", "caption", dataset, "--base-url", "http://127.0.0.1:9/v1")
    assert result.exit_code == 2 and "OPENAI_API_KEY" in result.output


def test_reviewed_only_captions_expert_kept_clips(dataset, cli, monkeypatch, tmp_path):
    import csv

    monkeypatch.setenv("OPENAI_API_KEY", "local")
    assert cli("data", "review", dataset, "--export", tmp_path / "rv").exit_code == 0
    with open(tmp_path / "rv" / "review.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    chosen = next(r for r in rows if r["title"] == "Mitosis in a cell")
    chosen["verdict"] = "keep"
    with open(tmp_path / "rv" / "review.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert cli("data", "review", dataset, "--import", tmp_path / "rv" / "review.csv").exit_code == 0
    with CaptionServer() as server:
        result = cli("data", "caption", dataset, "--model", "m", "--base-url", server.base_url, "--reviewed-only")
        assert result.exit_code == 0, result.output
        assert len(server.requests) == 1
    clips = Manifest(dataset).read("clips").set_index("clip_id")
    assert clips["caption.keep"].notna().sum() == 1 and clips.loc[chosen["clip_id"], "caption.keep"]
