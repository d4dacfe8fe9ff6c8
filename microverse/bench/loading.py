"""Find and load the benchmark a command should use: ``--benchmark PATH`` or the cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from microverse.bench.anomalies import Anomaly
from microverse.bench.canonical import read_canonical
from microverse.bench.fetch import cached_benchmark_dir, is_complete
from microverse.bench.models import Benchmark
from microverse.bench.official import read_official
from microverse.errors import MicroverseError

NO_BENCHMARK_FIX = ("pass --benchmark PATH (a folder with the official files, or a canonical .json), "
                    "or run `microverse bench fetch` (add --from DIR for a local copy)")


@dataclass
class LoadedBenchmark:
    benchmark: Benchmark
    path: Path
    file_anomalies: list[Anomaly] = field(default_factory=list)


def resolve_benchmark_path(path: Path | None) -> Path:
    """The explicit path if given, else the cache; a clear error naming both ways otherwise."""
    if path is not None:
        if not path.exists():
            raise MicroverseError("benchmark path does not exist", file=str(path), fix=NO_BENCHMARK_FIX)
        return path
    cached = cached_benchmark_dir()
    if is_complete(cached):
        return cached
    raise MicroverseError("no benchmark given and none in the cache", file=str(cached), fix=NO_BENCHMARK_FIX)


def load_benchmark(path: Path | None = None) -> LoadedBenchmark:
    """Load a benchmark from an official-layout folder or a canonical JSON file."""
    resolved = resolve_benchmark_path(path)
    if resolved.is_dir():
        benchmark, anomalies = read_official(resolved)
        return LoadedBenchmark(benchmark, resolved, anomalies)
    return LoadedBenchmark(read_canonical(resolved), resolved, [])
