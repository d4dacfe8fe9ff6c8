"""Splitting and filtering on synthetic videos: exact cuts, exact border widths, the right drops."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from microverse.data.filters import FilterWorker, filter_config
from microverse.data.ingest import ingest_local
from microverse.data.manifest import Manifest
from microverse.data.pipeline import run_clip_stage, split_sources
from microverse.data.split import SplitWorker, segments, split_config
from microverse.testing.videos import Scene, make_video
from tests.data.conftest import MIXED_CUTS

SMALL = dict(min_side=64, min_duration=0.5, max_duration=60.0)


def _ranges(manifest: Manifest, source_path) -> list[tuple[int, int]]:
    sources = manifest.read("sources")
    sid = sources.loc[sources["path"] == str(source_path.resolve()), "source_id"].item()
    clips = manifest.read("clips")
    clips = clips[clips["source_id"] == sid].sort_values("start_frame")
    return list(zip(clips["start_frame"].astype(int), clips["end_frame"].astype(int)))


def _dataset(tmp_path, *paths) -> Manifest:
    manifest = Manifest(tmp_path / "ds")
    ingest_local(manifest, list(paths))
    return manifest


def test_content_detector_cuts_exactly_at_scene_changes(tmp_path, videos):
    manifest = _dataset(tmp_path, videos["mixed"])
    split_sources(manifest, SplitWorker, split_config(min_clip=0.3))
    assert _ranges(manifest, videos["mixed"]) == MIXED_CUTS
    clips = manifest.read("clips").sort_values("start_frame")
    # clip ids are source + frame range, times follow the frame rate
    first = clips.iloc[1]
    assert first["clip_id"] == f"{first['source_id']}-0000030-0000050"
    assert first["start_s"] == pytest.approx(30 / 24) and first["duration"] == pytest.approx(20 / 24)


def test_min_clip_suppresses_close_cuts_and_max_clip_divides_evenly(tmp_path, videos):
    manifest = _dataset(tmp_path, videos["mixed"])
    # 1 s at 24 fps = 24 frames: the cut at 50 comes 20 frames after 30 and is ignored
    split_sources(manifest, SplitWorker, split_config(min_clip=1.0))
    assert _ranges(manifest, videos["mixed"]) == [(0, 30), (30, 75), (75, 115)]
    assert segments([30], 100, 10.0, max_clip=3.0) == [(0, 30), (30, 53), (53, 77), (77, 100)]
    assert segments([], 70, 10.0, max_clip=3.0) == [(0, 23), (23, 47), (47, 70)]


def test_clip_embedder_finds_the_same_frame_exact_cuts(tmp_path, videos):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(hidden_size=64, intermediate_size=64, num_hidden_layers=2,
                                           num_attention_heads=2, image_size=32, patch_size=8, projection_dim=16)
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(tmp_path / "tiny-clip")
    manifest = _dataset(tmp_path, videos["mixed"])
    # A random tiny CLIP: same-scene frames have similarity > 0.998, cuts < 0.985, so 0.99 separates them.
    cfg = split_config(detector="clip", clip_model=str(tmp_path / "tiny-clip"), threshold=0.99, min_clip=0.3,
                       sample_fps=3.0)
    split_sources(manifest, SplitWorker, cfg)
    assert _ranges(manifest, videos["mixed"]) == MIXED_CUTS
    scores = manifest.read("clips").sort_values("start_frame")["split.cut_score"].tolist()
    assert pd.isna(scores[0]) and all(s < 0.99 for s in scores[1:])
    # batching samples (one batch per sample, or batches that end mid-scene) changes nothing
    for batch_size in (1, 3):
        split_sources(manifest, SplitWorker, {**cfg, "batch_size": batch_size}, redo=True)
        assert _ranges(manifest, videos["mixed"]) == MIXED_CUTS


def test_filters_measure_borders_text_and_motion(tmp_path, videos):
    manifest = _dataset(tmp_path, *videos.values())
    split_sources(manifest, SplitWorker, split_config(min_clip=0.3))
    run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL))
    clips = manifest.read("clips").merge(manifest.read("sources")[["source_id", "filename"]], on="source_id")
    by = {(r["filename"], int(r["start_frame"])): r for r in clips.to_dict("records")}

    letter = by[("letterbox.mp4", 0)]
    assert (letter["filter.border_top"], letter["filter.border_bottom"]) == (12, 12)
    assert letter["filter.border_left"] == 0
    assert not letter["filter.keep"] and "black borders" in letter["filter.reason"]
    pillar = by[("pillarbox.mp4", 0)]
    assert (pillar["filter.border_left"], pillar["filter.border_right"], pillar["filter.border_top"]) == (16, 16, 0)

    text = by[("mixed.mp4", 50)]
    assert not text["filter.keep"] and text["filter.reason"].startswith("burned-in text")
    assert "HELLO" in text["filter.text"].replace(" ", "").upper()
    still = by[("mixed.mp4", 30)]
    assert not still["filter.keep"] and still["filter.reason"].startswith("static or slideshow")
    assert still["filter.motion"] < 0.05

    for moving in (by[("mixed.mp4", 0)], by[("mixed.mp4", 75)], by[("clean.mp4", 0)]):
        assert moving["filter.keep"], moving["filter.reason"]
        assert moving["filter.motion"] > 0.5 and moving["filter.text_frames"] == 0


def test_crop_mode_keeps_letterboxed_clips_with_the_crop_box(tmp_path, videos):
    manifest = _dataset(tmp_path, videos["letterbox"])
    split_sources(manifest, SplitWorker, split_config())
    run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL, borders="crop", text=False))
    row = manifest.read("clips").iloc[0]
    assert row["filter.keep"]
    assert [row[f"filter.crop_{k}"] for k in "xywh"] == [0, 12, 160, 72]


def test_bounds_are_checked_without_decoding(tmp_path, videos):
    manifest = _dataset(tmp_path, videos["clean"])
    split_sources(manifest, SplitWorker, split_config())
    run_clip_stage(manifest, "filter", FilterWorker, filter_config())  # paper bounds: 720p, 5-60 s
    row = manifest.read("clips").iloc[0]
    assert not row["filter.keep"] and row["filter.reason"] == "resolution too low (160x96 < 720p)"
    manifest.reset_stage("clips", "filter")
    run_clip_stage(manifest, "filter", FilterWorker, filter_config(min_side=64))
    assert manifest.read("clips").iloc[0]["filter.reason"] == "too short (1.50 s < 5 s)"


def test_cli_split_filter_report_json(tmp_path, videos, cli):
    out = tmp_path / "ds"
    result = cli("data", "ingest", videos["mixed"], videos["letterbox"], "--out", out)
    assert result.exit_code == 0, result.output
    assert cli("data", "split", out, "--min-clip", "0.3").exit_code == 0
    result = cli("data", "filter", out, "--min-side", "64", "--min-duration", "0.5")
    assert result.exit_code == 0, result.output
    result = cli("data", "report", out, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["stages"]["ingest"] == {"unit": "sources", "kept": 2, "dropped": 0, "reasons": {}}
    assert report["stages"]["split"]["kept"] == 5
    assert report["stages"]["filter"] == {"unit": "clips", "kept": 2, "dropped": 3, "reasons": {
        "black borders": 1, "burned-in text": 1, "static or slideshow": 1}}
    decisions = {(c["start_frame"], c["end_frame"]): (c["keep"], c["reason"]) for c in report["clips"]}
    assert decisions[(0, 30)] == (True, None)
    assert decisions[(30, 50)][1].startswith("filter: static or slideshow")
    assert sum(keep for keep, _ in decisions.values()) == 2
    # html report with plots
    result = cli("data", "report", out, "--format", "html", "--out", tmp_path / "rep")
    assert result.exit_code == 0, result.output
    assert {"index.html", "funnel.png", "attributes.png"} <= {p.name for p in (tmp_path / "rep").iterdir()}


def test_rerun_skips_finished_work_and_folds_leftover_parts(tmp_path, videos):
    manifest = _dataset(tmp_path, videos["mixed"], videos["clean"])
    split_sources(manifest, SplitWorker, split_config(min_clip=0.3))
    assert split_sources(manifest, SplitWorker, split_config(min_clip=0.3))["processed"] == 0
    first = run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL))
    assert first["processed"] == 5
    assert run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL))["processed"] == 0
    # A crash after persisting a part but before folding: the rerun folds it and skips that clip.
    clips = manifest.read("clips")
    target = clips["clip_id"].iloc[0]
    manifest.reset_stage("clips", "filter")
    manifest.append("filter", [{"clip_id": target, "filter.keep": False, "filter.reason": "from a part"}])
    assert run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL))["processed"] == 4
    row = manifest.read("clips").set_index("clip_id").loc[target]
    assert row["filter.reason"] == "from a part"
    assert not (manifest.dir / "work" / "filter").exists() or not any((manifest.dir / "work" / "filter").iterdir())


def test_a_failing_clip_is_quarantined_and_the_run_goes_on(tmp_path, videos):
    moved = tmp_path / "gone.mp4"
    shutil.copy(videos["clean"], moved)
    manifest = _dataset(tmp_path, videos["mixed"], moved)
    split_sources(manifest, SplitWorker, split_config(min_clip=0.3))
    moved.unlink()  # the source disappears between stages
    summary = run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL))
    assert summary["processed"] == 5
    clips = manifest.read("clips").merge(manifest.read("sources")[["source_id", "filename"]], on="source_id")
    lost = clips[clips["filename"] == "gone.mp4"].iloc[0]
    assert not lost["filter.keep"] and lost["filter.reason"].startswith("error: FileNotFoundError")
    assert lost["filter.error"]
    assert clips[clips["filename"] == "mixed.mp4"]["filter.keep"].sum() == 2


def test_bad_inputs_get_reasons_and_the_run_completes(tmp_path, cli):
    from microverse.testing.videos import make_audio_only

    folder = tmp_path / "in"
    folder.mkdir()
    make_video(folder / "rotated.mp4", [Scene(30, 1), Scene(30, 2)], rotation=90)
    make_video(folder / "tenbit.mkv", [Scene(30, 3), Scene(30, 4)], codec="libx265", pix_fmt="yuv420p10le")
    make_video(folder / "vfr.mp4", [Scene(30, 5)], vfr=True)
    make_audio_only(folder / "audio.mp4")
    whole = make_video(tmp_path / "whole.mkv", [Scene(40, 6), Scene(40, 7)]).read_bytes()
    (folder / "truncated.mkv").write_bytes(whole[: len(whole) // 2])  # a cut-off download
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    out = tmp_path / "ds"
    result = cli("data", "ingest", folder, "--out", out)
    assert result.exit_code == 0 and f"{folder / 'corrupt.mp4'}: unreadable file" in result.output  # named
    assert cli("data", "split", out, "--min-clip", "0.3").exit_code == 0
    assert cli("data", "filter", out, "--min-side", "64", "--min-duration", "0.5").exit_code == 0
    report = json.loads(cli("data", "report", out, "--format", "json").stdout)
    named = {Path(d["path"]).name: (d["stage"], d["reason"]) for d in report["sources_dropped"]}
    assert named.keys() == {"empty.mp4", "corrupt.mp4", "audio.mp4", "vfr.mp4"}
    assert named["empty.mp4"] == ("ingest", "empty file (0 bytes)")
    assert "corrupt.mp4 (ingest): unreadable file" in cli("data", "report", out).stdout
    assert cli("data", "report", out, "--format", "html", "--out", tmp_path / "html").exit_code == 0
    page = (tmp_path / "html" / "index.html").read_text()
    assert "Source files not used" in page and "corrupt.mp4</td><td>ingest" in page
    sources = Manifest(out).read("sources").set_index("filename")
    reasons = sources["ingest.reason"].to_dict()
    assert reasons["empty.mp4"] == "empty file (0 bytes)"
    assert reasons["corrupt.mp4"].startswith("unreadable file")
    assert reasons["audio.mp4"].startswith("no video stream")
    assert reasons["vfr.mp4"].startswith("variable frame rate")
    assert sources.loc["rotated.mp4", "ingest.keep"] and "rotated 90" in sources.loc["rotated.mp4", "ingest.notes"]
    assert (sources.loc["rotated.mp4", "probe.width"], sources.loc["rotated.mp4", "probe.height"]) == (96, 160)
    assert "10-bit" in sources.loc["tenbit.mkv", "ingest.notes"]
    truncated = sources.loc["truncated.mkv"]
    assert truncated["ingest.keep"] and truncated["split.notes"].startswith("truncated?")
    assert truncated["split.frames"] < truncated["probe.frames"] == 80
    # the usable odd files were split at their true cuts and filtered like any other
    manifest = Manifest(out)
    assert _ranges(manifest, folder / "rotated.mp4") == [(0, 30), (30, 60)]
    assert _ranges(manifest, folder / "tenbit.mkv") == [(0, 30), (30, 60)]
    clips = manifest.read("clips")
    assert clips["filter.keep"].all(), clips["filter.reason"].tolist()
    assert (clips["width"] < clips["height"]).sum() == 2  # the rotated clips are upright (portrait)
    assert len(clips) == 5  # rotated 2, 10-bit 2, truncated 1 (what survived of its first scene)


def test_cli_errors_are_one_line(tmp_path, cli):
    result = cli("data", "split", tmp_path)
    assert result.exit_code == 2
    assert "not a dataset folder" in result.output and "Traceback" not in result.output
    result = cli("data", "ingest", tmp_path / "missing", "--out", tmp_path / "ds")
    assert result.exit_code == 2 and "no such file" in result.output


def test_run_until_filter_then_resume(tmp_path, videos, cli):
    out = tmp_path / "ds"
    assert cli("data", "ingest", videos["mixed"], videos["clean"], "--out", out).exit_code == 0
    args = ["data", "run", out, "--until", "filter", "--min-clip", "0.3", "--min-side", "64", "--min-duration",
            "0.5"]
    result = cli(*args)
    assert result.exit_code == 0, result.output
    report = json.loads(cli("data", "report", out, "--format", "json").stdout)
    assert list(report["stages"]) == ["ingest", "split", "filter"]
    assert report["stages"]["filter"]["kept"] == 3 and report["stages"]["split"]["kept"] == 5
    before = (out / "manifest" / "clips.parquet").read_bytes()
    result = cli(*args)
    assert result.exit_code == 0 and "processed\": 0" in result.output
    assert (out / "manifest" / "clips.parquet").read_bytes() == before
    assert cli("data", "run", out, "--until", "nope").exit_code == 2


def test_a_dark_background_around_a_subject_is_not_a_border():
    import numpy as np

    from microverse.data.filters import measure_borders

    yy, xx = np.mgrid[0:96, 0:160]
    frames = []
    for shift in (0, 4, 8):  # a bright cell drifting on black, never touching the edges
        disk = ((yy - 48) ** 2 + (xx - 70 - shift) ** 2) < 30 ** 2
        frames.append(np.where(disk[..., None], 200, 0).astype(np.uint8).repeat(3, axis=2))
    assert measure_borders(frames, luma=24) == {"top": 0, "bottom": 0, "left": 0, "right": 0}
    letterboxed = [f.copy() for f in frames]
    for f in letterboxed:
        f[10:86] = np.maximum(f[10:86], 60)  # a dim picture between 10 px bars
    assert measure_borders(letterboxed, luma=24) == {"top": 10, "bottom": 10, "left": 0, "right": 0}
