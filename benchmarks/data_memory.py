"""Benchmark: peak memory of ingest + split + filter as the number of videos grows.

Run by hand: ``python benchmarks/data_memory.py [--counts 10 40 160]``. Each count runs in a
fresh process (peak RSS from getrusage); videos are small distinct synthetic clips, so the
figure isolates what the pipeline itself holds per video (the manifest rows), not frames.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(count: int) -> None:
    from microverse.data.filters import FilterWorker, filter_config
    from microverse.data.ingest import ingest_local
    from microverse.data.manifest import Manifest
    from microverse.data.pipeline import run_clip_stage, split_sources
    from microverse.data.split import SplitWorker, split_config
    from microverse.testing.videos import Scene, make_video

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for k in range(count):
            make_video(folder / f"v{k:05d}.mp4", [Scene(24, 2 * k), Scene(24, 2 * k + 1)], width=320, height=192)
        manifest = Manifest(Path(tmp) / "ds")
        t = time.time()
        ingest_local(manifest, [folder])
        split_sources(manifest, SplitWorker, split_config(min_clip=0.3))
        run_clip_stage(manifest, "filter", FilterWorker, filter_config(min_side=64, min_duration=0.5))
        clips = len(manifest.read("clips"))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{count} videos, {clips} clips: peak RSS {peak_mb:.0f} MB, {time.time() - t:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 40, 160])
    parser.add_argument("--one", type=int)
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return
    for count in args.counts:
        subprocess.run([sys.executable, __file__, "--one", str(count)], check=True)


if __name__ == "__main__":
    main()
