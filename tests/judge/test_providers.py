"""The OpenAI-compatible provider against a real loopback server that misbehaves."""

from __future__ import annotations

import asyncio
import time

import pytest

from microverse.errors import MicroverseError
from microverse.judge.providers import (
    ChatRequest,
    OpenAIChatProvider,
    ProviderError,
    ProviderStopped,
    RetryPolicy,
    parse_retry_after,
)

FAST = RetryPolicy(max_attempts=4, base_delay_s=0.01, max_delay_s=0.05)
PROMPT = "Judge this.\n1. [positive point] cells divide\n2. [penalty point] blurry\n"
SCHEMA = {"type": "object", "properties": {"scores": {"type": "array"}}, "required": ["scores"]}


def provider(judge, **kw) -> OpenAIChatProvider:
    kw.setdefault("retry", FAST)
    return OpenAIChatProvider("fake-judge", base_url=judge.base_url, **kw)


def run(coro):
    return asyncio.run(coro)


async def ask(p, request=None, **kw):
    try:
        return await p.complete(request or ChatRequest(PROMPT, json_schema=SCHEMA), **kw)
    finally:
        await p.aclose()


def test_answer_usage_and_payload(api_key, fake_judge):
    p = provider(fake_judge)
    result = run(ask(p, ChatRequest(PROMPT, image_urls=["data:image/jpeg;base64,AAAA"], json_schema=SCHEMA)))
    assert '"scores"' in result.text and result.attempts == 1
    assert result.usage.prompt_tokens == 100 and result.usage.completion_tokens == 20
    assert p.meter.successes == 1 and p.meter.total_tokens == 120 and p.meter.in_flight == 0
    body = fake_judge.requests[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/jpeg")
    assert fake_judge.headers[0]["authorization"] == f"Bearer {api_key}"


@pytest.mark.parametrize("failure", ["500", "drop", "429", "empty"])
def test_transient_failures_are_retried(api_key, fake_judge, failure):
    fake_judge.actions.extend([failure, failure])
    p = provider(fake_judge)
    result = run(ask(p))
    assert result.attempts == 3 and p.meter.retries == 2 and p.meter.failures == 0


def test_retry_after_is_honoured(api_key, fake_judge):
    fake_judge.actions.append("429:0.4")
    start = time.monotonic()
    result = run(ask(provider(fake_judge)))
    assert result.attempts == 2 and time.monotonic() - start >= 0.4


def test_hanging_server_times_out_and_retries(api_key, fake_judge):
    fake_judge.actions.append("hang")
    result = run(ask(provider(fake_judge, timeout_s=0.5)))
    assert result.attempts == 2


def test_gives_up_after_max_attempts(api_key, fake_judge):
    fake_judge.default = "500"
    p = provider(fake_judge)
    with pytest.raises(ProviderError, match="HTTP 500") as info:
        run(ask(p))
    assert info.value.attempts == FAST.max_attempts and len(fake_judge.requests) == FAST.max_attempts


def test_413_calls_the_downscale_hook(api_key, fake_judge):
    fake_judge.default = "413big"
    fake_judge.max_image_chars = 100
    shrunk = []

    def smaller(request):
        url = request.image_urls[0]
        if len(url) <= 30:
            return None
        shrunk.append(len(url))
        return request.with_images([url[: len(url) // 2]])

    p = provider(fake_judge)
    result = run(ask(p, ChatRequest(PROMPT, image_urls=["data:" + "A" * 400]), on_too_large=smaller))
    assert shrunk == [405, 202, 101] and p.meter.downscales == 3 and result.attempts == 4
    fake_judge.max_image_chars = 0
    with pytest.raises(ProviderError, match="413"):
        run(ask(provider(fake_judge), ChatRequest(PROMPT, image_urls=["data:x"]), on_too_large=smaller))
    with pytest.raises(ProviderError, match="413"):
        run(ask(provider(fake_judge), ChatRequest(PROMPT, image_urls=["data:x"])))


def test_structured_output_falls_back_once(api_key, fake_judge):
    fake_judge.default = "reject_schema"
    p = provider(fake_judge)

    async def two():
        try:
            a = await p.complete(ChatRequest(PROMPT, json_schema=SCHEMA))
            b = await p.complete(ChatRequest(PROMPT, json_schema=SCHEMA))
            return a, b
        finally:
            await p.aclose()

    a, b = run(two())
    assert a.response_format == b.response_format == "json_object"
    assert [r.get("response_format", {}).get("type") for r in fake_judge.requests] == [
        "json_schema", "json_object", "json_object"]


def test_rejected_temperature_is_dropped(api_key, fake_judge):
    fake_judge.default = "reject_temperature"
    result = run(ask(provider(fake_judge)))
    assert result.attempts == 2 and "temperature" not in fake_judge.requests[-1]


def test_bad_key_stops_everything(api_key, fake_judge):
    fake_judge.default = "401"
    p = provider(fake_judge)

    async def go():
        with pytest.raises(ProviderStopped, match="OPENAI_API_KEY"):
            await p.complete(ChatRequest(PROMPT))
        with pytest.raises(ProviderStopped):
            await p.complete(ChatRequest(PROMPT))
        await p.aclose()

    run(go())
    assert len(fake_judge.requests) == 1


def test_circuit_breaker_trips_on_consecutive_failures(api_key, fake_judge):
    fake_judge.default = "500"
    p = provider(fake_judge, retry=RetryPolicy(max_attempts=2, base_delay_s=0.0), breaker_threshold=3)

    async def go():
        outcomes = []
        for _ in range(6):
            try:
                await p.complete(ChatRequest(PROMPT))
            except (ProviderError, ProviderStopped) as exc:
                outcomes.append(type(exc).__name__)
        await p.aclose()
        return outcomes

    assert run(go()) == ["ProviderError"] * 3 + ["ProviderStopped"] * 3
    assert len(fake_judge.requests) == 6


def test_concurrency_is_bounded(api_key, fake_judge):
    fake_judge.delay_s = 0.15
    p = provider(fake_judge, concurrency=3)

    async def go():
        results = await asyncio.gather(*(p.complete(ChatRequest(PROMPT)) for _ in range(9)))
        await p.aclose()
        return results

    assert len(run(go())) == 9
    assert fake_judge.max_in_flight == 3


def test_key_never_leaks(api_key, fake_judge):
    fake_judge.echo_key_in_errors = True
    fake_judge.actions.extend(["echo_key"])
    result = run(ask(provider(fake_judge)))
    assert api_key not in result.text and "***" in result.text
    fake_judge.default = "500"
    with pytest.raises(ProviderError) as info:
        run(ask(provider(fake_judge)))
    assert api_key not in str(info.value) and "***" in str(info.value)


def test_key_only_from_environment(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(MicroverseError, match="OPENAI_API_KEY is not set"):
        OpenAIChatProvider("gpt-4o")


def test_parse_retry_after():
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480.0) == 10.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_images_spliced_into_the_body_in_order(api_key, fake_judge):
    urls = tuple(f"data:image/jpeg;base64,{'QUJD' * (i + 1)}" for i in range(3))
    tricky = PROMPT + "\u0000microverse-images\u0000 ünïcode"
    p = provider(fake_judge)

    async def two():
        try:
            await p.complete(ChatRequest(tricky, image_urls=urls))
            await p.complete(ChatRequest(PROMPT, image_urls=urls, system="be strict"))
        finally:
            await p.aclose()

    run(two())
    first, second = fake_judge.requests
    assert first["messages"][0]["content"][0]["text"] == tricky
    assert [part["image_url"]["url"] for part in first["messages"][0]["content"][1:]] == list(urls)
    assert second["messages"][0] == {"role": "system", "content": "be strict"}
    assert [part["image_url"]["url"] for part in second["messages"][1]["content"][1:]] == list(urls)


def test_unrelated_400_fails_the_request_without_downgrading(api_key, fake_judge):
    fake_judge.actions.append("400")
    p = provider(fake_judge)

    async def two():
        try:
            with pytest.raises(ProviderError, match="Invalid image"):
                await p.complete(ChatRequest(PROMPT, json_schema=SCHEMA))
            return await p.complete(ChatRequest(PROMPT, json_schema=SCHEMA))
        finally:
            await p.aclose()

    assert run(two()).response_format == "json_schema"
    assert len(fake_judge.requests) == 2
