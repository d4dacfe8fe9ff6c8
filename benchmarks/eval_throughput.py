"""Time `microverse eval` end to end on a full benchmark's worth of videos against a loopback judge.

Makes 459 videos of 832×480, 2 s at 16 fps (H.264, one keyframe, B-frames: what generators
write), starts the loopback judge (``python -m microverse.testing.fake_judge``) in its own process
answering after a fixed delay (0.3 s), and runs

    /usr/bin/time -v microverse eval VIDEOS --name bench --concurrency 100 ...

reporting wall time, CPU time, peak RSS and the frame-extraction CPU per video that eval
itself measures. A second run on a third of the videos shows whether peak RSS is flat in
the number of videos. With ``--official-frames`` it also times the official evaluator's
frame extraction (OpenCV seeks, JPEG quality 100) on the same files, for comparison.

Usage: python benchmarks/eval_throughput.py [--videos 459] [--delay 0.3] [--work /tmp/mv-bench]
Targets (docs/benchmarks/judge.md): wall ≤ 18 s, ≤ 50 ms CPU per video for frames,
peak RSS ≤ 500 MB and flat in the number of videos.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from pathlib import Path

from _common import cpu_seconds

REPO = Path(__file__).resolve().parents[1]
OFFICIAL = REPO.parent / "shared" / "benchmark" / "official"


def make_video(path: Path, width: int = 832, height: int = 480, seconds: float = 2.0, fps: int = 16) -> None:
    """Smoothly moving colour patterns, seeded by the file name so every video differs."""
    import av
    import numpy as np

    seed = int(path.stem)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(int(seconds * fps)):
            phase = i / fps + seed
            rgb = np.stack([(xx + 40 * phase) % 256, (yy * 2 + 25 * phase) % 256,
                            128 + 100 * np.sin(xx * yy / 5000 + phase)], -1).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def ensure_videos(folder: Path, count: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    todo = [folder / f"{i}.mp4" for i in range(1, count + 1) if not (folder / f"{i}.mp4").is_file()]
    if todo:
        print(f"making {len(todo)} videos in {folder} …", flush=True)
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(make_video, todo, chunksize=8))


def benchmark_path(work: Path) -> Path:
    if (OFFICIAL / "MWBenchRubrics_norm.json").is_file():
        return OFFICIAL
    from microverse.bench.canonical import write_canonical
    from microverse.testing.benchmark import tiny_benchmark  # synthetic fallback with the same task count

    return write_canonical(tiny_benchmark(459), work / "synthetic-bench.json")


def start_judge(delay: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "microverse.testing.fake_judge", "--delay", str(delay)],
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def timed_eval(videos: Path, bench: Path, url: str, db: Path, concurrency: int, judge_pid: int) -> dict:
    for path in db.parent.glob(db.name + "*"):
        path.unlink()
    command = ["/usr/bin/time", "-v", shutil.which("microverse") or "microverse", "eval", str(videos), "--name",
               "bench", "--benchmark", str(bench), "--base-url", url, "--db", str(db), "--concurrency",
               str(concurrency)]
    env = {**os.environ, "OPENAI_API_KEY": "loopback", "COLUMNS": "160"}
    judge_cpu = cpu_seconds(judge_pid)
    load = Path("/proc/loadavg").read_text().split()[0]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak_tree = tree_rss_peak(process)
    stdout, stderr = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"eval failed ({process.returncode}):\n{stdout}\n{stderr}")
    text = stderr + stdout

    def field(pattern: str) -> str:
        match = re.search(pattern, text)
        return match.group(1) if match else "nan"

    wall = field(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)")
    parts = [float(p) for p in wall.split(":")]
    return {
        "wall_s": sum(p * 60 ** i for i, p in enumerate(reversed(parts))),
        "cpu_s": float(field(r"User time \(seconds\): ([\d.]+)")) + float(field(r"System time \(seconds\): ([\d.]+)")),
        "peak_rss_mb": int(field(r"Maximum resident set size \(kbytes\): (\d+)")) / 1024,
        "peak_tree_rss_mb": peak_tree,
        "judge_cpu_s": cpu_seconds(judge_pid) - judge_cpu,
        "load_before": load,
        "frames_ms_per_video": float(field(r"(\d+) ms CPU per video for frames")),
        "answers": field(r"(\d+ usable, \d+ failed)"),
    }


def tree_rss_peak(process: subprocess.Popen) -> float:
    """Peak of the summed RSS (MB) of eval and its frame workers, sampled every 0.1 s until it exits.

    /usr/bin/time reports the largest single process; the workers are separate processes,
    so the honest memory figure is their sum.
    """
    def descendants(pid: int) -> list[int]:
        found = [pid]
        for tid in (Path(f"/proc/{pid}/task").iterdir() if Path(f"/proc/{pid}/task").exists() else []):
            try:
                kids = (tid / "children").read_text().split()
            except OSError:
                continue
            for kid in kids:
                found += descendants(int(kid))
        return found

    def rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(rss(pid) for pid in descendants(process.pid)))
        time.sleep(0.1)
    return peak / 1024


def official_frames_ms(videos: list[Path]) -> float | None:
    """CPU per video of the official extraction method (OpenCV seek per frame, JPEG quality 100), re-implemented."""
    try:
        import cv2
    except ImportError:
        return None
    started = time.process_time()
    for path in videos:
        capture = cv2.VideoCapture(str(path))
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        step = total / 8
        for i in range(8):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(i * step + step / 2))
            ok, frame = capture.read()
            if ok:
                cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 100])
        capture.release()
    return 1000 * (time.process_time() - started) / len(videos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=459)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("/tmp/mv-eval-bench"))
    parser.add_argument("--official-frames", action="store_true")
    args = parser.parse_args()
    ensure_videos(args.work / "videos", args.videos)
    small = args.work / "videos-third"
    small.mkdir(exist_ok=True)
    for i in range(1, args.videos // 3 + 1):
        if not (small / f"{i}.mp4").exists():
            os.link(args.work / "videos" / f"{i}.mp4", small / f"{i}.mp4")
    bench = benchmark_path(args.work)
    judge, url = start_judge(args.delay)
    try:
        full = timed_eval(args.work / "videos", bench, url, args.work / "full.sqlite", args.concurrency, judge.pid)
        third = timed_eval(small, bench, url, args.work / "third.sqlite", args.concurrency, judge.pid)
    finally:
        judge.terminate()
    official = official_frames_ms(sorted((args.work / "videos").glob("*.mp4"))[:60]) if args.official_frames else None
    print(f"\n| measure | {args.videos} videos | {args.videos // 3} videos | target |")
    print("|---|---|---|---|")
    print(f"| wall time | {full['wall_s']:.1f} s | {third['wall_s']:.1f} s | ≤ 18 s |")
    print(f"| CPU time (user+sys) | {full['cpu_s']:.1f} s | {third['cpu_s']:.1f} s | |")
    print(f"| peak RSS, largest process (time -v) | {full['peak_rss_mb']:.0f} MB | {third['peak_rss_mb']:.0f} MB "
          f"| ≤ 500 MB, flat |")
    print(f"| peak RSS, eval + frame workers summed | {full['peak_tree_rss_mb']:.0f} MB "
          f"| {third['peak_tree_rss_mb']:.0f} MB | ≤ 500 MB, flat |")
    print(f"| frames CPU per video | {full['frames_ms_per_video']:.0f} ms | {third['frames_ms_per_video']:.0f} ms "
          f"| ≤ 50 ms |")
    print(f"| answers | {full['answers']} | {third['answers']} | |")
    print(f"| loopback judge CPU (other process) | {full['judge_cpu_s']:.1f} s | {third['judge_cpu_s']:.1f} s | |")
    print(f"| load average before the run | {full['load_before']} | {third['load_before']} | |")
    if official is not None:
        print(f"| official-style frames (OpenCV, q100) | {official:.0f} ms per video | | (106 ms reported) |")


if __name__ == "__main__":
    main()
