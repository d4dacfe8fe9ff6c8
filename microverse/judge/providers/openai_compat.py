"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, SGLang, Ollama, LM Studio…).

Built on the official ``openai`` client with its own retries switched off (see
:mod:`.retry` for why). The key is read from ``OPENAI_API_KEY`` only and is redacted from
every error message and answer text this module hands out.

Structured output degrades step by step, once per provider, because servers differ:
``json_schema`` (OpenAI, vLLM, SGLang, Ollama) → ``json_object`` → plain prompt. Likewise
``temperature`` and ``seed`` are dropped if a model rejects them (GPT-5-class models only
accept the default temperature).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from microverse.judge.providers.base import (
    ChatRequest,
    ChatResult,
    DownscaleHook,
    ImageURLs,
    ProviderError,
    ProviderStopped,
    Usage,
    UsageMeter,
)
from microverse.judge.providers.keys import API_KEY_ENV, api_key_from_env, redact
from microverse.judge.providers.retry import CircuitBreaker, RetryPolicy, parse_retry_after

FORMATS = ("json_schema", "json_object", "none")
_IMAGES_MARK = "\u0000microverse-images\u0000"
_IMAGES_MARK_JSON = json.dumps(_IMAGES_MARK).encode("utf-8")
_RETRYABLE_STATUS = {408, 409, 425, 429}
# A 400 mentioning one of these is about structured output; any other 400 (a refused image,
# a content filter) fails that request only and must not downgrade the whole run.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "schema", "structured", "guided")
_ERROR_TEXT_LIMIT = 300


class OpenAIChatProvider:
    """Bounded-concurrency, retrying, metered chat client for one judge model."""

    def __init__(self, model: str, *, base_url: str | None = None, concurrency: int = 16,
                 timeout_s: float = 120.0, retry: RetryPolicy | None = None, breaker_threshold: int = 5,
                 structured: str = "json_schema", rng: random.Random | None = None) -> None:
        import httpx
        import openai

        if structured not in FORMATS:
            raise ValueError(f"structured must be one of {FORMATS}")
        self.model = model
        self._key = api_key_from_env()
        self._openai = openai
        from openai.types.chat import ChatCompletion

        self._completion_type = ChatCompletion
        self._client = openai.AsyncOpenAI(
            api_key=self._key, base_url=base_url, max_retries=0,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
        self.base_url = str(self._client.base_url)
        self.retry = retry or RetryPolicy()
        self.breaker = CircuitBreaker(breaker_threshold)
        self.meter = UsageMeter()
        self._semaphore = asyncio.Semaphore(max(1, concurrency))
        self._format = FORMATS.index(structured)
        self._dropped: set[str] = set()
        self._rng = rng or random.Random()

    def describe(self) -> str:
        return self.model

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(self, request: ChatRequest, *, on_too_large: DownscaleHook | None = None) -> ChatResult:
        """Answer one request, retrying what is worth retrying; raise ProviderError or ProviderStopped."""
        self.breaker.check()
        async with self._semaphore:
            self.breaker.check()
            return await self._attempts(request, on_too_large)

    async def _attempts(self, request: ChatRequest, on_too_large: DownscaleHook | None) -> ChatResult:
        meter, openai = self.meter, self._openai
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            fmt_index = self._format if request.json_schema is not None else FORMATS.index("none")
            retry_after: float | None = None
            meter.calls += 1
            meter.in_flight += 1
            began = time.monotonic()
            try:
                # client.post (the SDK's documented raw route) instead of chat.completions.create: the
                # latter walks the whole message tree through its type transformer, ~10 ms of CPU per
                # call with eight inline images, which at 100 calls in flight starves the event loop.
                response = await self._client.post(
                    "/chat/completions", content=self._body(request, fmt_index), cast_to=self._completion_type,
                    options={"headers": {"Content-Type": "application/json"}})
            except openai.APIStatusError as exc:
                status = exc.status_code
                message = self._describe_error(exc, status)
                if status in (401, 403):
                    self._stop(f"the judge endpoint refused the API key ({message}); check {API_KEY_ENV}")
                if status == 404:
                    self._stop(f"model {self.model!r} not found at {self.base_url} ({message}); "
                               "check --judge-model and --base-url")
                if status == 413:
                    smaller = on_too_large(request) if on_too_large else None
                    if smaller is None:
                        self._fail(message, status, attempt)
                    meter.downscales += 1
                    request = smaller
                    continue
                if status in (400, 422) and self._relax(exc, fmt_index, request):
                    continue
                if status not in _RETRYABLE_STATUS and status < 500:
                    self._fail(message, status, attempt)
                retry_after = parse_retry_after(exc.response.headers if exc.response is not None else None)
                last_error, last_status = message, status
            except openai.APITimeoutError:
                last_error, last_status = "request timed out", None
            except openai.APIConnectionError as exc:
                last_error, last_status = f"connection failed: {self._clean(str(exc.__cause__ or exc))}", None
            else:
                latency = time.monotonic() - began
                text = _answer_text(response)
                if text is not None:
                    usage = getattr(response, "usage", None)
                    result = ChatResult(
                        text=self._clean(text, limit=None),
                        usage=Usage(getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0),
                        latency_s=latency, elapsed_s=time.monotonic() - started, attempts=attempt,
                        response_format=FORMATS[fmt_index], model=getattr(response, "model", None))
                    meter.record_success(result)
                    self.breaker.success()
                    return result
                last_error, last_status = "the response had no message content", 200
            finally:
                meter.in_flight -= 1
            if attempt >= self.retry.max_attempts:
                self._fail(f"{last_error} (after {attempt} attempts)", last_status, attempt)
            meter.retries += 1
            await asyncio.sleep(self.retry.delay(attempt, retry_after, self._rng))

    def _body(self, request: ChatRequest, fmt_index: int) -> bytes:
        """The JSON body, with the images' JSON encoded once per image tuple and spliced in.

        A video's three calls share one :class:`ImageURLs` (~0.6 MB of data URLs); JSON-encoding
        it for every call cost ~2 ms of event-loop CPU each, as much as everything else per call.
        """
        payload = self._payload(request, fmt_index, [_IMAGES_MARK] if request.image_urls else [])
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if not request.image_urls:
            return body
        urls = request.image_urls
        images = (urls if isinstance(urls, ImageURLs) else ImageURLs(urls)).chat_json()
        head, mark, tail = body.partition(_IMAGES_MARK_JSON)
        if not mark or _IMAGES_MARK_JSON in tail:  # the prompt itself held the marker: encode plainly
            return json.dumps(self._payload(request, fmt_index, None), ensure_ascii=False).encode("utf-8")
        return b"".join((head, images, tail))

    def _payload(self, request: ChatRequest, fmt_index: int, images: list[str] | None) -> dict[str, Any]:
        content: list[Any] = [{"type": "text", "text": request.prompt}]
        if images is None:
            content += [{"type": "image_url", "image_url": {"url": url}} for url in request.image_urls]
        else:
            content += images
        messages: list[dict[str, Any]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": content})
        payload: dict[str, Any] = {"model": self.model, "messages": messages}
        fmt = FORMATS[fmt_index]
        if fmt == "json_schema":
            payload["response_format"] = {"type": "json_schema", "json_schema": {
                "name": request.schema_name, "schema": request.json_schema, "strict": True}}
        elif fmt == "json_object":
            payload["response_format"] = {"type": "json_object"}
        if request.temperature is not None and "temperature" not in self._dropped:
            payload["temperature"] = request.temperature
        if request.seed is not None and "seed" not in self._dropped:
            payload["seed"] = request.seed
        if request.max_tokens is not None:
            payload["max_completion_tokens"] = request.max_tokens
        return payload

    def _relax(self, exc: Exception, fmt_index: int, request: ChatRequest) -> bool:
        """After a 400/422, drop the optional thing the server rejected; False if nothing is left to drop."""
        text = str(getattr(exc, "message", "") or exc).lower()
        for name in ("temperature", "seed"):
            if name in text and name not in self._dropped and getattr(request, name) is not None:
                self._dropped.add(name)
                return True
        if FORMATS[fmt_index] != "none" and any(word in text for word in _FORMAT_WORDS):
            # Compare-and-advance: many requests in flight may report the same rejection.
            if self._format == fmt_index:
                self._format += 1
            return True
        return False

    def _describe_error(self, exc: Any, status: int) -> str:
        body = getattr(exc, "body", None)
        detail = body.get("message") if isinstance(body, dict) else None
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            detail = body["error"].get("message", detail)
        return f"HTTP {status}" + (f": {self._clean(str(detail))}" if detail else "")

    def _clean(self, text: str, limit: int | None = _ERROR_TEXT_LIMIT) -> str:
        text = redact(text, self._key)
        return text if limit is None or len(text) <= limit else text[:limit] + "…"

    def _fail(self, message: str, status: int | None, attempts: int) -> None:
        self.meter.failures += 1
        self.breaker.failure(message)
        raise ProviderError(message, status=status, attempts=attempts)

    def _stop(self, reason: str) -> None:
        self.meter.failures += 1
        self.breaker.trip(reason)
        raise ProviderStopped(reason)


def _answer_text(response: Any) -> str | None:
    choices = getattr(response, "choices", None) or []
    if not choices:
        return None
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None)
    if content is None:
        # Some reasoning servers put a refusal or nothing in content; treat it as no answer.
        return None
    return content
