"""When to try again and when to give up: backoff, Retry-After and a circuit breaker.

Written here rather than taken from the ``openai`` client (whose own retries we switch
off) because the engine must count every retry for the progress bar, react to 413 by
re-encoding frames, and stop the whole run when the provider is plainly broken — none of
which the client's built-in retry loop exposes.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from typing import Mapping

from microverse.judge.providers.base import ProviderStopped


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped; a server's Retry-After wins when given."""

    max_attempts: int = 6
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    max_retry_after_s: float = 300.0

    def delay(self, attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after_s is not None:
            return min(max(retry_after_s, 0.0), self.max_retry_after_s)
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait: ``retry-after-ms``, ``retry-after`` seconds or HTTP date."""
    if not headers:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class CircuitBreaker:
    """Trips after ``threshold`` requests in a row fail for good; a success resets the count.

    Counting whole requests (each already retried) rather than attempts means ordinary rate
    limiting never trips it, while a dead endpoint stops the run after a few requests
    instead of burning the whole benchmark.
    """

    def __init__(self, threshold: int = 5) -> None:
        self.threshold = threshold
        self.consecutive = 0
        self.reason: str | None = None

    def check(self) -> None:
        if self.reason is not None:
            raise ProviderStopped(self.reason)

    def success(self) -> None:
        self.consecutive = 0

    def failure(self, message: str) -> None:
        self.consecutive += 1
        if self.threshold > 0 and self.consecutive >= self.threshold and self.reason is None:
            self.reason = (f"the judge failed {self.consecutive} requests in a row (last: {message}); "
                           "stopping so the rest of the benchmark is not wasted")

    def trip(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
