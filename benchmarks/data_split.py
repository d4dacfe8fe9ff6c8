"""Benchmark: splitting speed of the offline detector on 720p input, in frames per CPU-second.

Run by hand: ``python benchmarks/data_split.py [--seconds 30] [--video PATH]``.
CPU time (user + system, all threads) is the honest "per core" measure: the decoder may use
several threads, so wall-clock speed on N cores would overstate a single core's throughput.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds

from microverse.data.split import SplitWorker, split_config
from microverse.data.video import probe
from microverse.testing.videos import Scene, make_video


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--video", type=Path)
    parser.add_argument("--threads", action="store_true", help="let the decoder use threads (default: one)")
    parser.add_argument("--exact", action="store_true", help="full-quality decode (no fast analysis decode)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.video
        if path is None:
            path = Path(tmp) / "bench720.mp4"
            scenes = [Scene(30 * 5, seed) for seed in range(args.seconds // 5)]
            t = time.time()
            make_video(path, scenes, width=1280, height=720, fps=30, gop=250)
            print(f"made {path.name}: {sum(s.frames for s in scenes)} frames 1280x720 in {time.time() - t:.1f} s")
        facts = probe(path)
        worker = SplitWorker(split_config(threads=args.threads, fast_decode=not args.exact))
        source = {"source_id": "bench", "path": str(path), "probe.fps": facts.fps, "probe.width": facts.width,
                  "probe.height": facts.height}
        c0, w0 = cpu_seconds(), time.time()
        row = worker(source)
        c1, w1 = cpu_seconds(), time.time()
        frames = row["split.frames"]
        print(f"{frames} frames, {len(row['split.clips'])} clips; cpu {c1 - c0:.2f} s, wall {w1 - w0:.2f} s")
        print(f"=> {frames / (c1 - c0):.0f} frames per CPU-second (per core), {frames / (w1 - w0):.0f} frames/s wall")


if __name__ == "__main__":
    main()
