"""VideoMAE classifier: training recipe, metrics, calibrated threshold, and the classify stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from microverse.data.classify import calibrate, confusion, read_labels, split_80_20  # noqa: E402
from microverse.errors import MicroverseError  # noqa: E402
from microverse.testing.videos import make_tinted  # noqa: E402


@pytest.fixture(scope="module")
def tiny_videomae(tmp_path_factory):
    torch.manual_seed(0)
    config = transformers.VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32,
                                         num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
    folder = tmp_path_factory.mktemp("videomae-base")
    transformers.VideoMAEForVideoClassification(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Ten clips: reddish ones are 'micro', bluish ones 'non-micro' (separable by colour)."""
    root = tmp_path_factory.mktemp("labelled")
    lines = ["video,label"]
    for k in range(5):
        make_tinted(root / f"micro{k}.mp4", (200, 40, 40), seed=k)
        make_tinted(root / f"other{k}.mp4", (40, 40, 200), seed=10 + k)
        lines += [f"micro{k}.mp4,micro", f"other{k}.mp4,non-micro"]
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root / "labels.csv"


def test_split_is_stratified_80_20():
    labels = [1] * 1107 + [0] * 1473  # the paper's Table 3 class sizes
    train, test = split_80_20(labels)
    # round(20%) per class: 221 and 295 held out (the paper's table says 222 and 295)
    assert sum(labels[i] for i in test) == 221 and len(test) - sum(labels[i] for i in test) == 295
    assert not set(train) & set(test) and len(train) + len(test) == 2580


def test_calibration_and_confusion():
    import numpy as np

    probs = np.array([0.1, 0.2, 0.3, 0.35, 0.6, 0.9])
    labels = np.array([0, 0, 1, 1, 1, 1])
    assert calibrate(probs, labels) == pytest.approx(0.3)  # at 0.5 two positives are missed
    assert confusion(labels, (probs >= 0.5).astype(int)) == [[2, 0], [2, 2]]


def test_bad_label_files_name_the_line(tmp_path, labelled):
    bad = tmp_path / "bad.csv"
    bad.write_text(f"video,label\n{labelled.parent / 'micro0.mp4'},maybe\n")
    with pytest.raises(MicroverseError, match="line 2"):
        read_labels(bad)
    bad.write_text("name,label\nx,1\n")
    with pytest.raises(MicroverseError, match="'video' or 'clip_id'"):
        read_labels(bad)
    bad.write_text(f"video,label,start_frame\n{labelled.parent / 'micro0.mp4'},1,ten\n")
    with pytest.raises(MicroverseError, match="line 2: start_frame and end_frame must be whole frame numbers"):
        read_labels(bad)
    with pytest.raises(MicroverseError, match="not UTF-8 text"):
        read_labels(labelled.parent / "micro0.mp4")  # a video given where the CSV goes
    bad.write_text(f"video,label\n{labelled.parent / 'micro0.mp4'},1\n,0\n")  # a row without its video
    with pytest.raises(MicroverseError, match="line 3: this line names no video"):
        read_labels(bad, dataset=tmp_path)


def test_undecodable_labelled_clips_are_all_named_before_training(tmp_path, tiny_videomae, labelled, cli):
    import shutil

    lines = labelled.read_text().splitlines()
    for name in ("micro0.mp4", "other0.mp4"):  # truncated to a header: opens, but no frame decodes
        (tmp_path / name).write_bytes((labelled.parent / name).read_bytes()[:600])
    for k in range(1, 5):
        for name in (f"micro{k}.mp4", f"other{k}.mp4"):
            shutil.copy(labelled.parent / name, tmp_path / name)
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "clf"
    result = cli("data", "train-classifier", tmp_path / "labels.csv", "--base", tiny_videomae, "--out", out)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "2 of 10 labelled clips cannot be decoded, nothing was trained" in result.output
    assert "micro0.mp4 [frames 0-end]" in result.output and "other0.mp4" in result.output
    assert not (out / "model.safetensors").exists()
    result = cli("data", "train-classifier", tmp_path / "labels.csv", "--base", tiny_videomae, "--out", out,
                 "--no-frame-cache", "--epochs", "1")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot decode this labelled clip" in result.output and "0.mp4 [frames 0-end]" in result.output
    # decoded in a loader worker: the same one line, not torch's "Caught ... in DataLoader worker" traceback
    result = cli("data", "train-classifier", tmp_path / "labels.csv", "--base", tiny_videomae, "--out", out,
                 "--no-frame-cache", "--epochs", "1", "--loader-workers", "1")
    assert result.exit_code == 2 and "Traceback" not in result.output and "worker" not in result.output
    assert "cannot decode this labelled clip" in result.output and "0.mp4 [frames 0-end]" in result.output


@pytest.mark.slow
def test_train_then_classify_a_dataset(tmp_path, tiny_videomae, labelled, cli):
    model_dir = tmp_path / "clf"
    result = cli("data", "train-classifier", labelled, "--base", tiny_videomae, "--out", model_dir,
                 "--lr", "1e-3", "--epochs", "6", "--batch-size", "4", "--loader-workers", "1")
    assert result.exit_code == 0, result.output
    assert "frame cache: 10 clips decoded for all epochs; 10 held in memory" in result.output  # by 1 loader worker
    assert "Loading weights" not in result.output and "Writing model shards" not in result.output  # ours only
    meta = json.loads((model_dir / "classifier.json").read_text())
    assert meta["n_train"] == 8 and meta["n_test"] == 2 and meta["epochs"] == 6
    assert sorted(h["label"] for h in meta["held_out"]) == [0, 1]  # stratified: one of each class
    assert sum(map(sum, meta["confusion_matrix"])) == 2
    assert meta["accuracy"] == (meta["confusion_matrix"][0][0] + meta["confusion_matrix"][1][1]) / 2
    assert meta["train_loss"][-1] < meta["train_loss"][0]
    assert meta["accuracy_at_threshold"] == 1.0  # colours are trivially separable
    # classify a dataset made of the same kind of clips
    out = tmp_path / "ds"
    videos = sorted(labelled.parent.glob("*.mp4"))
    gone = make_tinted(tmp_path / "gone.mp4", (200, 40, 40), seed=99)
    assert cli("data", "ingest", *videos, gone, "--out", out).exit_code == 0
    assert cli("data", "split", out).exit_code == 0
    gone.unlink()  # its clip fails inside a batch: only it is quarantined
    result = cli("data", "classify", out, "--model", model_dir, "--batch-size", "3")
    assert result.exit_code == 0, result.output
    report = json.loads(cli("data", "report", out, "--format", "json").stdout)
    assert report["stages"]["classify"]["kept"] + report["stages"]["classify"]["dropped"] == 11
    assert report["stages"]["classify"]["reasons"].get("error: FileNotFoundError") == 1
    from microverse.data.manifest import Manifest

    clips = Manifest(out).read("clips").merge(Manifest(out).read("sources")[["source_id", "filename"]])
    clips = clips[clips["filename"] != "gone.mp4"]
    for row in clips.to_dict("records"):
        assert 0.0 <= row["classify.p_micro"] <= 1.0
        assert row["classify.keep"] == (row["classify.p_micro"] >= meta["threshold"])
    micro = clips[clips["filename"].str.startswith("micro")]["classify.p_micro"]
    other = clips[clips["filename"].str.startswith("other")]["classify.p_micro"]
    assert micro.min() > other.max()


def test_a_model_that_cannot_load_is_one_clean_line(tmp_path, labelled, cli):
    out = tmp_path / "ds"
    assert cli("data", "ingest", labelled.parent / "micro0.mp4", "--out", out).exit_code == 0
    assert cli("data", "split", out).exit_code == 0
    result = cli("data", "classify", out, "--model", tmp_path / "missing")
    assert result.exit_code == 2 and "classifier folder not found" in result.output
    (tmp_path / "empty").mkdir()
    result = cli("data", "classify", out, "--model", tmp_path / "empty")
    assert result.exit_code == 2 and "classify stage could not start" in result.output
    assert "Traceback" not in result.output


def test_frame_cache_decodes_each_clip_once_and_trains_the_same_weights(tmp_path, tiny_videomae, labelled,
                                                                       monkeypatch):
    """Cached (in memory, or on disk) or not, with loader workers or not, the same seed gives bit-identical weights."""
    from collections import Counter
    from pathlib import Path

    from safetensors.torch import load_file

    import microverse.data.classify as classify

    decodes: Counter = Counter()
    real = classify.sample_frames

    def counting(path, indices, **kw):
        decodes[Path(path).name] += 1
        return real(path, indices, **kw)

    monkeypatch.setattr(classify, "sample_frames", counting)
    items = read_labels(labelled)
    held_out = {Path(items[i]["path"]).name for i in split_80_20([i["label"] for i in items])[1]}
    runs = {}
    for name, options in {"off": {"frame_cache": False}, "memory": {}, "disk": {"cache_memory_gb": 0},
                          "disk again": {"cache_memory_gb": 0, "loader_workers": 1},
                          "off workers": {"frame_cache": False, "loader_workers": 1}}.items():
        decodes.clear()
        out = tmp_path / name.split()[0]
        metrics = classify.train(items, str(tiny_videomae), out, epochs=2, lr=1e-3, batch_size=4, **options)
        runs[name] = load_file(out / "model.safetensors"), dict(decodes), metrics["frame_cache"]
    weights = runs["off"][0]
    initial = load_file(tiny_videomae / "model.safetensors")
    assert any(not torch.equal(weights[k], initial[k]) for k in initial if k in weights)  # it did train
    for name in ("memory", "disk", "disk again", "off workers"):  # decoding in a worker changes nothing either
        assert runs[name][0].keys() == weights.keys()
        assert all(torch.equal(runs[name][0][k], weights[k]) for k in weights), name
    assert runs["off"][1] == {clip: 1 if clip in held_out else 2 for clip in runs["off"][1]} and len(runs["off"][1]) == 10
    assert runs["memory"][1] == runs["disk"][1] == {clip: 1 for clip in runs["off"][1]}
    assert runs["memory"][2]["in_memory"] == 10 and runs["memory"][2]["on_disk"] == 0  # held-out clips too
    assert runs["disk"][2]["on_disk"] == 10 and len(list((tmp_path / "disk" / "frame-cache").glob("*.npy"))) == 10
    # a rerun into the same folder decodes nothing ...
    assert runs["disk again"][1] == {} and runs["disk again"][2]["decoded"] == 0
    # ... unless a clip changed: its key (path, size, mtime, frame range, preprocessing) no longer matches
    item = items[0]
    cache = classify.FrameCache(items, real, recipe="r", folder=tmp_path / "x", memory_bytes=0)
    before = cache.key(item)
    stat = Path(item["path"]).stat()
    os.utime(item["path"], ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cache.key(item) != before
    assert cache.key({**item, "end_frame": 4}) != cache.key(item)


def test_frame_cache_removes_partial_files_left_by_a_killed_writer(tmp_path):
    from microverse.data.frame_cache import FrameCache

    folder = tmp_path / "frame-cache"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a finished process: its pid names no writer any more
    stale, live = folder / f"abc.{dead.pid}.partial", folder / f"def.{os.getpid()}.partial"
    stale.write_bytes(b"half a tensor")
    live.write_bytes(b"being written")
    FrameCache([], lambda item: None, recipe="r", folder=folder, memory_bytes=0).fill([])
    assert not stale.exists() and live.exists()
