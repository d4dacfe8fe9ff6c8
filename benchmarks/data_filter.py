"""Benchmark: CPU seconds per clip for the filter stage (borders + OCR + motion) on 720p clips.

Run by hand: ``python benchmarks/data_filter.py [--clips 4] [--seconds 8]``.
Clips are synthetic 1280x720 H.264 (GOP 250, the x264 default) with and without burned-in
subtitles and letterbox bars. One worker, one OCR thread: the figure is per core.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import cpu_seconds

from microverse.data.filters import FilterWorker, filter_config
from microverse.data.video import probe
from microverse.testing.videos import Scene, make_video


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    fps = 30
    with tempfile.TemporaryDirectory() as tmp:
        items = []
        for k in range(args.clips):
            text = "Mitochondria produce ATP for the cell" if k % 2 else None
            bars = (90, 90, 0, 0) if k % 4 == 3 else (0, 0, 0, 0)
            path = make_video(Path(tmp) / f"c{k}.mp4", [Scene(args.seconds * fps, 100 + k, text=text)], width=1280,
                              height=720, fps=fps, gop=250, bars=bars)
            facts = probe(path)
            items.append({"clip_id": f"c{k}", "path": str(path), "start_frame": 0, "end_frame": facts.frames,
                          "width": facts.width, "height": facts.height, "duration": facts.duration})
        worker = FilterWorker(filter_config(min_duration=1.0))
        worker.ocr()  # model load is once per worker, not per clip
        per_clip = []
        for item in items:
            c0, w0 = cpu_seconds(), time.time()
            row = worker(item)
            per_clip.append(cpu_seconds() - c0)
            print(f"{item['clip_id']}: cpu {per_clip[-1]:.3f} s, wall {time.time() - w0:.3f} s -> "
                  f"keep={row['filter.keep']} reason={row['filter.reason']}")
        print(f"=> mean {sum(per_clip) / len(per_clip):.3f} CPU-s per clip, max {max(per_clip):.3f}")


if __name__ == "__main__":
    main()
