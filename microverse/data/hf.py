"""Loading and saving Hugging Face models inside a data stage without transformers' own bars.

Why: the stage's Rich bar already reports progress; transformers 5 prints a "Loading weights"
bar for every load (one per worker process in a pool) and a "Writing model shards" bar for
every save, which land in the middle of ours.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Turn transformers' progress bars off for the duration (restored after, if they were on)."""
    from transformers.utils import logging

    was_on = logging.is_progress_bar_enabled()
    logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_on:
            logging.enable_progress_bar()
