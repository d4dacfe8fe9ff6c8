"""Time scoring and validation on the official benchmark (issue 2 targets).

Targets: scoring 459 tasks x 10 models with 1,000 bootstrap resamples under 2 s wall;
`bench validate` on the official files under 1 s. Both are measured end to end as the
user runs them (process start, imports, loading, scoring, report), best of N runs.

    python benchmarks/score_speed.py [--benchmark ../shared/benchmark/official] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from microverse.bench.loading import load_benchmark
from microverse.bench.synthetic import write_synthetic_results


def timed(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--benchmark", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared"
                        / "benchmark" / "official")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    benchmark = load_benchmark(args.benchmark).benchmark
    cli = [sys.executable, "-m", "microverse.cli.app"]
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results"
        write_synthetic_results(benchmark, results, {f"Model{i}": 0.3 + 0.05 * i for i in range(10)}, quirk_rate=0.02)
        cases = {
            "score 10 models x 459 tasks, 1000 resamples (json)":
                cli + ["score", "--official-results", str(results), "--benchmark", str(args.benchmark),
                       "--format", "json", "--resamples", "1000"],
            "score, same, Markdown": cli + ["score", "--official-results", str(results), "--benchmark",
                                            str(args.benchmark)],
            "bench validate": cli + ["bench", "validate", "--benchmark", str(args.benchmark)],
            "python startup + import microverse.cli.app": [sys.executable, "-c", "import microverse.cli.app"],
        }
        print("| command | best (s) | median (s) | runs |\n|---|---|---|---|")
        for name, cmd in cases.items():
            times = timed(cmd, args.runs)
            print(f"| {name} | {min(times):.2f} | {statistics.median(times):.2f} | {args.runs} |")


if __name__ == "__main__":
    main()
