"""Pick the provider a judge name asks for: ``hf:MODEL_ID_OR_PATH`` runs locally, anything else is an API model."""

from __future__ import annotations

from microverse.judge.providers.base import JudgeProvider
from microverse.judge.providers.retry import RetryPolicy

HF_PREFIX = "hf:"


def make_provider(judge: str, *, base_url: str | None = None, concurrency: int = 16, timeout_s: float = 120.0,
                  max_attempts: int = 6, breaker_threshold: int = 5) -> JudgeProvider:
    if judge.startswith(HF_PREFIX):
        from microverse.judge.providers.hf import HFVisionProvider

        return HFVisionProvider(judge[len(HF_PREFIX):])
    from microverse.judge.providers.openai_compat import OpenAIChatProvider

    return OpenAIChatProvider(judge, base_url=base_url, concurrency=concurrency, timeout_s=timeout_s,
                              retry=RetryPolicy(max_attempts=max_attempts), breaker_threshold=breaker_threshold)
