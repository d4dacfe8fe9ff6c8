"""MicroWorldBench core: the benchmark model, loading, validation and exact scoring.

Depends on nothing else of ours (only :mod:`microverse.errors`).
"""

from microverse.bench.loading import LoadedBenchmark, load_benchmark
from microverse.bench.models import DIMENSIONS, LEVELS, Benchmark, Criterion, Dimension, Level, Task

__all__ = ["Benchmark", "Criterion", "DIMENSIONS", "Dimension", "LEVELS", "Level", "LoadedBenchmark", "Task",
           "load_benchmark"]
