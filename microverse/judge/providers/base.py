"""What every judge provider takes and returns, so the engine never cares which one it talks to.

A request is one chat turn: a text prompt, optional images (data: or http URLs) and an
optional JSON schema the answer should follow. A result carries the text and the cost of
getting it (tokens, latency, attempts), because the store keeps that per judgment.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol, Sequence


class ImageURLs(tuple):
    """Image URLs shared by several requests (a video's frames, sent once per dimension).

    Their chat-API JSON is encoded once and kept with them, so it lives exactly as long
    as the frames do; a plain tuple works too, it is just encoded per request.
    """

    def chat_json(self) -> bytes:
        """The ``image_url`` content parts as JSON, without the surrounding brackets."""
        cached = self.__dict__.get("_chat_json")
        if cached is None:
            parts = [{"type": "image_url", "image_url": {"url": url}} for url in self]
            cached = self.__dict__["_chat_json"] = json.dumps(parts)[1:-1].encode("utf-8")
        return cached


@dataclass(frozen=True)
class ChatRequest:
    """One chat-completion request: a user turn with text and images."""

    prompt: str
    image_urls: Sequence[str] = ()
    json_schema: dict[str, Any] | None = None
    schema_name: str = "answer"
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = 0.0
    seed: int | None = None

    def with_images(self, image_urls: Sequence[str]) -> "ChatRequest":
        return replace(self, image_urls=image_urls if isinstance(image_urls, tuple) else tuple(image_urls))


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ChatResult:
    """The answer text and what it cost."""

    text: str
    usage: Usage = Usage()
    latency_s: float = 0.0
    """Seconds of the attempt that succeeded."""
    elapsed_s: float = 0.0
    """Seconds from the first attempt to the answer, waits included."""
    attempts: int = 1
    response_format: str = "none"
    """How structure was asked for: json_schema, json_object or none (after fallbacks)."""
    model: str | None = None


class ProviderError(Exception):
    """This request failed for good (after retries); other requests may still succeed.

    The message never holds the API key: providers redact it before raising.
    """

    def __init__(self, message: str, *, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class ProviderStopped(Exception):
    """The provider is unusable (bad key, unknown model, too many consecutive failures): stop the run."""


#: Called with the request that got HTTP 413; returns a smaller request, or None to give up.
DownscaleHook = Callable[[ChatRequest], "ChatRequest | None"]


@dataclass
class UsageMeter:
    """Running totals a progress bar can read while requests are in flight."""

    calls: int = 0
    successes: int = 0
    failures: int = 0
    retries: int = 0
    downscales: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    in_flight: int = 0
    latency_total_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def record_success(self, result: ChatResult) -> None:
        self.successes += 1
        self.prompt_tokens += result.usage.prompt_tokens
        self.completion_tokens += result.usage.completion_tokens
        self.latency_total_s += result.latency_s


class JudgeProvider(Protocol):
    """Anything that answers chat requests. ``describe()`` names the judge for the store."""

    meter: UsageMeter

    def describe(self) -> str: ...

    async def complete(self, request: ChatRequest, *, on_too_large: DownscaleHook | None = None) -> ChatResult: ...

    async def aclose(self) -> None: ...


def jpeg_data_url(jpeg: bytes) -> str:
    """A JPEG as the ``data:`` URL chat APIs take for inline images."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def decode_data_url(url: str) -> bytes:
    """The bytes of a base64 ``data:`` URL (local providers need the image itself)."""
    header, _, payload = url.partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise ValueError("not a base64 data: URL")
    return base64.b64decode(payload)
