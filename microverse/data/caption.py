"""Captions (paper, section 3.1): a multimodal LLM sees 8 evenly spaced frames plus the
source's title and description and writes a detailed description (~150 words).

Requests go through the judge's OpenAI-compatible provider layer (bounded concurrency,
retries with backoff, circuit breaker, token metering, key redaction), so any
OpenAI-compatible server works (OpenAI, vLLM, SGLang, Ollama). Each caption is stored in
the manifest with the model, the prompt version, its word count and token usage.

Length check: a caption outside ``[min_words, max_words]`` is asked for once more with the
length stated; if it is still out of range the clip is dropped with the reason. A request
that fails for good is left undecided (so a rerun retries it) and counted; a stopped
provider (bad key, unknown model, breaker) ends the run with finished captions saved.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

from microverse.data.manifest import CLIP_KEY, Manifest
from microverse.data.pipeline import clip_items
from microverse.data.video import even_indices, sample_frames
from microverse.errors import MicroverseError

PROMPT_VERSION = "microsim-caption-v1"
# The paper's prompt, verbatim apart from the placeholders.
PROMPT = (
    "The provided images are sampled from a video clip (8 evenly spaced frames). This clip is taken from a video "
    "with the following metadata:\n\n"
    "Video Title: {title}; Video Description: {description}\n\n"
    "Using the visual content of the clip, together with the title and description, please generate a clear, "
    "detailed, and accurate description of what is shown. Focus on the subject, explains the scene and actions, "
    "and emphasizes visible details, textures, and fine structures."
)
LENGTH_NOTE = "\n\nWrite one paragraph of about {target} words (at least {low}, at most {high})."


def build_prompt(title: str | None, description: str | None) -> str:
    return PROMPT.format(title=(title or "unknown").strip(), description=(description or "none").strip())


def frame_urls(path: Path, start: int, end: int, *, frames: int = 8, width: int = 512) -> list[str]:
    from PIL import Image

    from microverse.judge.providers import jpeg_data_url

    urls = []
    for array in sample_frames(path, even_indices(start, end, frames), width=width):
        buffer = io.BytesIO()
        Image.fromarray(array).save(buffer, format="JPEG", quality=85)
        urls.append(jpeg_data_url(buffer.getvalue()))
    return urls


async def _caption_one(provider, item: dict, cfg: dict) -> dict:
    from microverse.judge.providers import ChatRequest, ProviderError

    start, end = int(item["start_frame"]), int(item["end_frame"])
    urls = await asyncio.to_thread(frame_urls, Path(item["path"]), start, end, frames=cfg["frames"],
                                   width=cfg["width"])
    prompt = build_prompt(item.get("title"), item.get("description"))
    request = ChatRequest(prompt=prompt, image_urls=urls, max_tokens=cfg["max_tokens"],
                          temperature=cfg["temperature"])

    def smaller(req):  # HTTP 413: halve the frames' width, down to 128 px
        width = cfg["width"] // 2
        if width < 128:
            return None
        cfg_small = {**cfg, "width": width}
        return req.with_images(frame_urls(Path(item["path"]), start, end, frames=cfg_small["frames"],
                                          width=width))

    prompt_tokens = completion_tokens = attempts = 0
    text = ""
    for round_ in range(2):
        try:
            result = await provider.complete(request, on_too_large=smaller)
        except ProviderError as exc:
            return {"caption.keep": None, "caption.reason": None, "caption.error": str(exc)}
        prompt_tokens += result.usage.prompt_tokens
        completion_tokens += result.usage.completion_tokens
        attempts += result.attempts
        text = " ".join(result.text.split())
        words = len(text.split())
        if cfg["min_words"] <= words <= cfg["max_words"]:
            break
        if round_ == 0:
            note = LENGTH_NOTE.format(target=(cfg["min_words"] + cfg["max_words"]) // 2, low=cfg["min_words"],
                                      high=cfg["max_words"])
            request = ChatRequest(prompt=prompt + note, image_urls=request.image_urls,
                                  max_tokens=cfg["max_tokens"], temperature=cfg["temperature"])
    words = len(text.split())
    ok = cfg["min_words"] <= words <= cfg["max_words"]
    reason = None
    if not ok:
        reason = (f"caption too short ({words} words < {cfg['min_words']})" if words < cfg["min_words"]
                  else f"caption too long ({words} words > {cfg['max_words']})")
    return {"caption.text": text, "caption.words": words, "caption.model": result.model or provider.describe(),
            "caption.prompt_version": PROMPT_VERSION, "caption.prompt_tokens": prompt_tokens,
            "caption.completion_tokens": completion_tokens, "caption.attempts": attempts,
            "caption.keep": ok, "caption.reason": reason, "caption.error": None}


async def _run(manifest: Manifest, items: list[dict], provider, cfg: dict,
               progress: Callable[[int, int], None] | None) -> dict:
    from microverse.judge.providers import ProviderStopped

    done, failed, batch = 0, 0, []
    stopped: str | None = None
    queue = list(reversed(items))
    limit = max(1, cfg["concurrency"]) * 2  # bounded in flight: frames of queued clips are not held
    running: set[asyncio.Task] = set()
    owner: dict[asyncio.Task, dict] = {}

    def flush() -> None:
        manifest.append("caption", batch)
        batch.clear()

    try:
        while queue or running:
            while queue and len(running) < limit and stopped is None:
                item = queue.pop()
                task = asyncio.create_task(_caption_one(provider, item, cfg))
                running.add(task)
                owner[task] = item
            if not running:
                break
            finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                item = owner.pop(task)
                try:
                    row = task.result()
                except ProviderStopped as exc:
                    stopped = str(exc)
                    continue
                except Exception as exc:  # a bad clip file: quarantine it, go on
                    row = {"caption.keep": False, "caption.reason": f"error: {exc.__class__.__name__}: {exc}",
                           "caption.error": str(exc)}
                row[CLIP_KEY] = item[CLIP_KEY]
                if row["caption.keep"] is None:
                    failed += 1
                batch.append(row)
                done += 1
                if progress:
                    progress(done, len(items))
            if len(batch) >= 16:
                flush()
    finally:
        flush()
        await provider.aclose()
    return {"done": done, "failed_requests": failed, "stopped": stopped}


def caption_dataset(manifest: Manifest, provider, *, frames: int = 8, width: int = 512, min_words: int = 60,
                    max_words: int = 400, max_tokens: int = 600, temperature: float = 0.2, concurrency: int = 16,
                    redo: bool = False, reviewed_only: bool = False,
                    progress: Callable[[int, int], None] | None = None) -> dict:
    """Caption every clip still in the running that has no caption yet.

    ``reviewed_only`` captions only clips an expert kept (the paper's order: review, then
    caption, which spends no tokens on clips the experts will reject).
    """
    cfg = dict(frames=frames, width=width, min_words=min_words, max_words=max_words, max_tokens=max_tokens,
               temperature=temperature, concurrency=concurrency)
    items = clip_items(manifest, "caption", redo=redo, source_columns=("path", "title", "description"))
    if reviewed_only:
        items = [item for item in items if item.get("review.keep") is True]
    summary = asyncio.run(_run(manifest, items, provider, cfg, progress))
    manifest.fold("clips", "caption", CLIP_KEY)
    if summary["done"]:
        manifest.record_run("caption", {**cfg, "model": provider.describe(), "prompt_version": PROMPT_VERSION},
                            summary["done"])
    meter = provider.meter
    summary.update({"requests": meter.calls, "retries": meter.retries, "prompt_tokens": meter.prompt_tokens,
                    "completion_tokens": meter.completion_tokens})
    if summary["stopped"]:
        raise MicroverseError(f"captioning stopped: {summary['stopped']}",
                              fix="finished captions are saved; fix the cause and rerun to resume")
    return summary
