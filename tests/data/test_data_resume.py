"""A stage killed with SIGKILL loses only the items in flight; the rerun ends with the same manifest."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from microverse.data.manifest import Manifest
from microverse.testing.videos import Scene, make_video

FILTER = ("--min-side", "64", "--min-duration", "0.3", "--no-text")


@pytest.mark.slow
def test_kill_9_mid_filter_then_rerun_equals_an_uninterrupted_run(tmp_path, cli):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(4):  # 4 distinct sources x 3 scenes = 12 clips; parts are written every 4 clips
        make_video(folder / f"v{k}.mp4", [Scene(18, 10 * k + s) for s in range(3)])
    reference = tmp_path / "reference"
    assert cli("data", "ingest", folder, "--out", reference).exit_code == 0
    assert cli("data", "split", reference, "--min-clip", "0.3").exit_code == 0
    killed = tmp_path / "killed"
    shutil.copytree(reference, killed)
    assert cli("data", "filter", reference, *FILTER).exit_code == 0

    work = killed / "manifest" / "work" / "filter"
    process = subprocess.Popen([sys.executable, "-m", "microverse.cli.app", "data", "filter", str(killed), *FILTER],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not list(work.glob("part-*.parquet")) and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the stage finished before it could be killed"
    saved = sum(len(pd.read_parquet(p)) for p in work.glob("part-*.parquet"))
    assert 0 < saved < 12  # some clips were finished and persisted, not all

    result = cli("data", "filter", killed, *FILTER)
    assert result.exit_code == 0, result.output
    assert f'"processed": {12 - saved}' in result.output  # finished clips are not filtered again
    for table in ("sources", "clips"):
        pd.testing.assert_frame_equal(Manifest(killed).read(table), Manifest(reference).read(table))
    assert Manifest(killed).read("clips")["filter.keep"].notna().sum() == 12


def test_folding_in_several_goes_restores_ints_but_never_drops_fractions():
    from microverse.data.manifest import update_columns

    base = pd.DataFrame({"clip_id": ["a", "b", "c"]})
    first = update_columns(base, pd.DataFrame({"clip_id": ["a"], "n": [2], "x": [1.5]}), "clip_id")
    assert first["n"].dtype == float  # the gaps of the first go make the int column float
    both = update_columns(first, pd.DataFrame({"clip_id": ["b", "c"], "n": [3, 4], "x": [2, 3]}), "clip_id")
    assert both["n"].tolist() == [2, 3, 4] and pd.api.types.is_integer_dtype(both["n"])
    assert both["x"].tolist() == [1.5, 2.0, 3.0]  # a float column receiving ints keeps its 1.5
