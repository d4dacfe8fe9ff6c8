"""Generic judge providers: ask a vision-language model one chat turn, reliably.

``OpenAIChatProvider`` talks to any OpenAI-compatible endpoint; the ``hf:`` provider runs a
local Hugging Face model. Both implement :class:`JudgeProvider`. See docs/judge.md.
"""

from microverse.judge.providers.base import (
    ChatRequest,
    ChatResult,
    DownscaleHook,
    ImageURLs,
    JudgeProvider,
    ProviderError,
    ProviderStopped,
    Usage,
    UsageMeter,
    decode_data_url,
    jpeg_data_url,
)
from microverse.judge.providers.keys import API_KEY_ENV, api_key_from_env, redact
from microverse.judge.providers.openai_compat import OpenAIChatProvider
from microverse.judge.providers.retry import CircuitBreaker, RetryPolicy, parse_retry_after

__all__ = [
    "API_KEY_ENV", "ChatRequest", "ChatResult", "CircuitBreaker", "DownscaleHook", "ImageURLs", "JudgeProvider",
    "OpenAIChatProvider", "ProviderError", "ProviderStopped", "RetryPolicy", "Usage", "UsageMeter",
    "api_key_from_env", "decode_data_url", "jpeg_data_url", "parse_retry_after", "redact",
]
