"""Both engines give identical manifests: in-process, a local process pool, and Ray Data."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pandas as pd
import pytest

from microverse.data.filters import FilterWorker, filter_config
from microverse.data.ingest import ingest_local
from microverse.data.manifest import Manifest
from microverse.data.pipeline import run_clip_stage, split_sources
from microverse.data.split import SplitWorker, split_config

SMALL = dict(min_side=64, min_duration=0.5)


def _build(root, videos, **engine) -> Manifest:
    manifest = Manifest(root)
    ingest_local(manifest, list(videos), **engine)
    split_sources(manifest, SplitWorker, split_config(min_clip=0.3), **engine)
    run_clip_stage(manifest, "filter", FilterWorker, filter_config(**SMALL), **engine)
    return manifest


@pytest.fixture(scope="module")
def inputs(videos, tmp_path_factory):
    """The test videos, a corrupt file and a duplicate (both must come out the same everywhere)."""
    folder = tmp_path_factory.mktemp("engine-in")
    for path in videos.values():
        shutil.copy(path, folder / path.name)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 4000)
    shutil.copy(videos["clean"], folder / "acopy.mp4")  # same bytes: the smaller path must win everywhere
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory) -> Manifest:
    return _build(tmp_path_factory.mktemp("ref") / "ds", inputs)


def _same(a: Manifest, b: Manifest) -> None:
    for table in ("sources", "clips"):
        pd.testing.assert_frame_equal(a.read(table), b.read(table))
    assert len(a.read("clips")) == 7 and a.read("clips")["filter.keep"].notna().all()
    assert "acopy.mp4" in set(a.read("sources")["filename"]) and "clean.mp4" not in set(a.read("sources")["filename"])


@pytest.mark.slow
def test_process_pool_matches_in_process(inputs, reference, tmp_path):
    _same(reference, _build(tmp_path / "ds", inputs, engine="local", workers=2))


@pytest.mark.slow
def test_ray_matches_local(inputs, reference, tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        _same(reference, _build(tmp_path / "ds", inputs, engine="ray", workers=2))
    finally:
        ray.shutdown()


class SigintProbe:
    """A stage worker reporting whether its own process ignores SIGINT (from /proc)."""

    def __init__(self, config: dict) -> None:
        pass

    def __call__(self, item: dict) -> dict:
        line = next(s for s in Path("/proc/self/status").read_text().splitlines() if s.startswith("SigIgn:"))
        return {"probe.sigint_ignored": bool(int(line.split()[1], 16) & (1 << (signal.SIGINT - 1)))}


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_ctrl_c_is_the_parents_alone_pool_workers_ignore_it():
    """Without this every pool worker printed a KeyboardInterrupt traceback under the one clean line."""
    from microverse.data import engine

    spec = engine.StageSpec("probe", "clip_id", SigintProbe, {})
    rows = list(engine.run(spec, [{"clip_id": str(k)} for k in range(6)], workers=2))
    assert len(rows) == 6 and all(row["probe.sigint_ignored"] for row in rows)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the parent still handles Ctrl-C
    assert not SigintProbe({})({})["probe.sigint_ignored"]


def test_rows_finished_before_an_interrupt_are_persisted():
    from microverse.data.engine import stream_to

    def rows():
        for k in range(6):
            yield {"k": k}
        raise KeyboardInterrupt

    saved: list[list[dict]] = []
    with pytest.raises(KeyboardInterrupt):
        stream_to(saved.append, rows(), every=4)
    assert [[r["k"] for r in batch] for batch in saved] == [[0, 1, 2, 3], [4, 5]]
