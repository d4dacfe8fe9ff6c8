"""The worker processes that extract frames, so decoding runs on every core.

Processes, not threads: PyAV holds the GIL while decoding, so threads would take turns.
Spawned, not forked: the engine's process has an event loop and open HTTP connections a
fork would copy. Workers import only this module and :mod:`microverse.judge.frames` (no
pydantic, no HTTP client), so they start fast, and each exits as soon as its parent is
gone, so ``kill -9`` of ``microverse eval`` leaves no orphans.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from microverse.judge.frames import FrameSet, FrameSettings, extract_frames


def frame_pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_watch_parent, initargs=(os.getpid(),))


def extract_timed(path: Path, settings: FrameSettings) -> tuple[FrameSet, float]:
    """The frames and the CPU seconds they took (this worker process is single-threaded for it)."""
    started = time.process_time()
    frames = extract_frames(path, settings)
    return frames, time.process_time() - started


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
