"""Helpers shared by the benchmark scripts (run as ``python benchmarks/NAME.py``, so this folder is on sys.path)."""

from __future__ import annotations

import os
import resource
from pathlib import Path


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds, all threads: of this process, or of process ``pid`` (from /proc).

    CPU time rather than wall time is the honest "per core" measure on a shared machine: the
    decoder may use several threads, and other jobs stretch wall time but not CPU time.
    """
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
