"""Expert review round trip and the training-set export (official metadata.json layout)."""

from __future__ import annotations

import csv
import json
import shutil
import tarfile

import av
import pytest

from microverse.data.export import is_test
from microverse.data.manifest import Manifest

SMALL = ["--min-side", "64", "--min-duration", "0.5"]


@pytest.fixture
def filtered(tmp_path, videos, cli):
    """mixed + clean + letterbox (with sidecar metadata), split and filtered: 3 clips kept."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name, licence in (("mixed", "Creative Commons Attribution license (reuse allowed)"), ("clean", None),
                          ("letterbox", "Creative Commons Attribution license (reuse allowed)")):
        shutil.copy(videos[name], folder / f"{name}.mp4")
        info = {"id": name, "title": f"{name} title", "description": "about cells", "license": licence,
                "channel": "lab", "view_count": 10, "extractor": "youtube",
                "webpage_url": f"https://example.org/{name}"}
        (folder / f"{name}.info.json").write_text(json.dumps(info))
    out = tmp_path / "ds"
    assert cli("data", "ingest", folder, "--out", out).exit_code == 0
    assert cli("data", "split", out, "--min-clip", "0.3").exit_code == 0
    assert cli("data", "filter", out, *SMALL, "--borders", "crop").exit_code == 0
    return out


def test_review_export_and_import(tmp_path, filtered, cli):
    sheet_dir = tmp_path / "review"
    result = cli("data", "review", filtered, "--export", sheet_dir)
    assert result.exit_code == 0, result.output
    with open(sheet_dir / "review.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4  # mixed 0-30, mixed 75-115, clean, letterbox (cropped)
    assert all((sheet_dir / r["contact_sheet"]).is_file() for r in rows)
    assert {r["title"] for r in rows} == {"mixed title", "clean title", "letterbox title"}
    rows[0]["verdict"], rows[0]["note"] = "drop", "physically inconsistent"
    rows[1]["verdict"] = "keep"
    rows[2]["verdict"] = "yes"  # rows[3] stays pending
    with open(sheet_dir / "review.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = cli("data", "review", filtered, "--import", sheet_dir / "review.csv")
    assert result.exit_code == 0, result.output
    report = json.loads(cli("data", "report", filtered, "--format", "json").stdout)
    assert report["stages"]["review"] == {"unit": "clips", "kept": 2, "dropped": 1, "reasons": {"expert: physically "
                                                                                                "inconsistent": 1}}
    dropped = {c["clip_id"]: c["reason"] for c in report["clips"]}
    assert dropped[rows[0]["clip_id"]] == "review: expert: physically inconsistent"
    # a second export lists only the pending clip
    assert cli("data", "review", filtered, "--export", sheet_dir).exit_code == 0
    with open(sheet_dir / "review.csv", newline="") as fh:
        assert [r["clip_id"] for r in csv.DictReader(fh)] == [rows[3]["clip_id"]]
    bad = tmp_path / "bad.csv"
    bad.write_text("clip_id,verdict\nnope,keep\n")
    result = cli("data", "review", filtered, "--import", bad)
    assert result.exit_code == 2 and "unknown clip" in result.output
    # the last verdict as a European Excel saves it: byte-order mark, ';' separators, padded header
    excel = tmp_path / "excel.csv"
    excel.write_text(f"clip_id ; verdict ; note\n{rows[3]['clip_id']};drop;trop floue, désolé\n", encoding="utf-8-sig")
    result = cli("data", "review", filtered, "--import", excel)
    assert result.exit_code == 0, result.output
    report = json.loads(cli("data", "report", filtered, "--format", "json").stdout)
    review = report["stages"]["review"]
    assert review["dropped"] == 2 and "expert: trop floue, désolé" in review["reasons"]
    excel.write_text("clip_id,verdict,note\nx,drop,désolé\n", encoding="cp1252")  # Excel's legacy "CSV"
    result = cli("data", "review", filtered, "--import", excel)
    assert result.exit_code == 2 and "not UTF-8 text" in result.output and "CSV UTF-8" in result.output


def test_export_official_layout_splits_by_source(tmp_path, filtered, cli):
    out = tmp_path / "train"
    result = cli("data", "export", filtered, "--out", out, "--prompt-from", "title", "--test-fraction", "0.5",
                 "--webdataset", "--shard-size", "2")
    assert result.exit_code == 0, result.output
    train = json.loads((out / "metadata.json").read_text())
    test = json.loads((out / "metadata_test.json").read_text())
    entries = train + test
    assert len(entries) == 4 and all(set(e) == {"id", "video", "prompt"} for e in entries)
    manifest = Manifest(filtered)
    clips = manifest.read("clips").set_index("clip_id")
    for entry in entries:
        clip = clips.loc[entry["id"]]
        assert entry["video"] == f"videos/{entry['id']}.mp4"
        assert entry["prompt"].endswith(" title")
        with av.open(str(out / entry["video"])) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            size = (stream.codec_context.width, stream.codec_context.height)
        assert frames == clip["end_frame"] - clip["start_frame"]
        cropped = clip.get("filter.crop_h") == clip.get("filter.crop_h")  # not NaN
        assert size == ((160, 72) if cropped else (160, 96))
        assert (entry in test) == is_test(clip["source_id"], 0.5)
    table = __import__("pandas").read_parquet(out / "clips.parquet")
    assert table.groupby("source_id")["split"].nunique().max() == 1  # no source in both splits
    shards = sorted((out / "webdataset").glob("*.tar"))
    members = [m for s in shards for m in tarfile.open(s).getnames()]
    assert len(members) == 12 and sum(m.endswith(".mp4") for m in members) == 4
    card = (out / "README.md").read_text()
    assert "Creative Commons Attribution license (reuse allowed) | 2" in card and "https://example.org/mixed" in card
    assert "- **filter**" in card and "borders=crop" in card and "min_side=64" in card  # how each stage ran
    runs = json.loads((filtered / "dataset.json").read_text())["stages"]
    assert set(runs) == {"ingest", "split", "filter"} and runs["split"][-1]["settings"]["detector"] == "content"
    # rerun resumes: clip files are not rewritten
    stamp = {p.name: p.stat().st_mtime_ns for p in (out / "videos").iterdir()}
    assert cli("data", "export", filtered, "--out", out, "--prompt-from", "title").exit_code == 0
    assert stamp == {p.name: p.stat().st_mtime_ns for p in (out / "videos").iterdir()}


def test_export_without_captions_says_how_to_fix(tmp_path, filtered, cli):
    result = cli("data", "export", filtered, "--out", tmp_path / "o")
    assert result.exit_code == 2 and "data caption" in result.output
