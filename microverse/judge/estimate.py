"""What a run will send, before it sends anything (``eval --dry-run``).

Image tokens follow OpenAI's published rule for high-detail images on GPT-4o-class models
(fit in 2048×2048, shortest side at most 768, then 170 tokens per 512-px tile plus 85);
other judges count differently, so the figure is labelled an estimate. Text tokens are
estimated at 4 characters per token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Typical answer length per criterion plus overhead, from the answers our prompt asks for.
ANSWER_TOKENS_PER_CRITERION = 40
ANSWER_TOKENS_BASE = 30


def image_tokens(width: int, height: int) -> int:
    scale = min(1.0, 2048 / max(width, height))
    width, height = width * scale, height * scale
    scale = min(1.0, 768 / min(width, height))
    width, height = width * scale, height * scale
    return 85 + 170 * math.ceil(width / 512) * math.ceil(height / 512)


@dataclass(frozen=True)
class CallEstimate:
    calls: int
    payload_bytes_per_call: int
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def estimate(prompt_chars: list[int], criteria: list[int], n_images: int, width: int, height: int,
             payload_bytes_per_call: int) -> CallEstimate:
    """Totals for calls with these prompt lengths and criteria counts, each carrying the same frames."""
    per_call_images = n_images * image_tokens(width, height)
    return CallEstimate(
        calls=len(prompt_chars), payload_bytes_per_call=payload_bytes_per_call,
        prompt_tokens=sum(math.ceil(c / 4) + per_call_images for c in prompt_chars),
        completion_tokens=sum(ANSWER_TOKENS_BASE + ANSWER_TOKENS_PER_CRITERION * n for n in criteria))
