"""A local Hugging Face vision-language model as the judge (``--judge hf:MODEL_ID_OR_PATH``).

For users without an API: any model ``AutoModelForImageTextToText`` loads whose processor
has a chat template (Qwen2-VL / Qwen2.5-VL, LLaVA(-OneVision), Idefics3, SmolVLM …). One
generation runs at a time (a GPU holds one model); it runs in a worker thread so the event
loop keeps extracting frames and writing results. There is no structured-output mode, so
answers go through the same checking and re-asking as any API judge's.

Needs the ``model`` extra (torch, transformers).
"""

from __future__ import annotations

import asyncio
import io
import time

from microverse.errors import MicroverseError
from microverse.judge.providers.base import (
    ChatRequest,
    ChatResult,
    DownscaleHook,
    ProviderError,
    Usage,
    UsageMeter,
    decode_data_url,
)
from microverse.judge.providers.retry import CircuitBreaker

DEFAULT_MAX_NEW_TOKENS = 1024


class HFVisionProvider:
    def __init__(self, source: str, *, device: str | None = None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
                 breaker_threshold: int = 5) -> None:
        try:
            import torch
            from transformers import AutoModelForImageTextToText, AutoProcessor
        except ImportError:
            raise MicroverseError("the hf: judge needs torch and transformers",
                                  fix="pip install 'microverse[model]'") from None
        self.source = source
        try:
            self.processor = AutoProcessor.from_pretrained(source)
            self.model = AutoModelForImageTextToText.from_pretrained(source, dtype="auto")
        except (OSError, ValueError, KeyError) as exc:
            raise MicroverseError(f"cannot load a vision-language model: {str(exc).splitlines()[0][:200]}",
                                  item=f"hf:{source}",
                                  fix="give a Hugging Face model id or a local folder holding an image-text-to-text "
                                      "model and its processor") from None
        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.max_new_tokens = max_new_tokens
        self.meter = UsageMeter()
        self.breaker = CircuitBreaker(breaker_threshold)
        self._semaphore: asyncio.Semaphore | None = None

    def describe(self) -> str:
        return f"hf:{self.source}"

    async def aclose(self) -> None:
        return None

    async def complete(self, request: ChatRequest, *, on_too_large: DownscaleHook | None = None) -> ChatResult:
        self.breaker.check()
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(1)
        async with self._semaphore:
            self.breaker.check()
            self.meter.calls += 1
            self.meter.in_flight += 1
            try:
                result = await asyncio.to_thread(self._generate, request)
            except Exception as exc:  # noqa: BLE001 - any generation error fails this request only
                self.meter.failures += 1
                message = f"local generation failed: {type(exc).__name__}: {str(exc)[:200]}"
                self.breaker.failure(message)
                raise ProviderError(message) from None
            finally:
                self.meter.in_flight -= 1
        self.meter.record_success(result)
        self.breaker.success()
        return result

    def _generate(self, request: ChatRequest) -> ChatResult:
        from PIL import Image

        started = time.monotonic()
        images = [Image.open(io.BytesIO(decode_data_url(url))).convert("RGB") for url in request.image_urls]
        messages = []
        if request.system:
            messages.append({"role": "system", "content": [{"type": "text", "text": request.system}]})
        messages.append({"role": "user", "content": [{"type": "image"} for _ in images]
                         + [{"type": "text", "text": request.prompt}]})
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = self.processor(images=images or None, text=text, return_tensors="pt").to(self.device)
        sampling = {"do_sample": False} if not request.temperature else {"do_sample": True,
                                                                           "temperature": request.temperature}
        with self._torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=request.max_tokens or self.max_new_tokens,
                                         **sampling)
        prompt_tokens = inputs["input_ids"].shape[1]
        new_tokens = output[0, prompt_tokens:]
        answer = self.processor.decode(new_tokens, skip_special_tokens=True)
        elapsed = time.monotonic() - started
        return ChatResult(text=answer, usage=Usage(int(prompt_tokens), int(new_tokens.shape[0])), latency_s=elapsed,
                          elapsed_s=elapsed, attempts=1, response_format="none", model=self.describe())
