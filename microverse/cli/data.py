"""Commands of the `data` capability: the MicroSim data pipeline (`microverse data ...`).

Thin wiring only: options are parsed here, the work is in :mod:`microverse.data`.
Heavy imports (cv2, scenedetect, torch, transformers, ray) happen inside the stages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from microverse.cli.common import clean_errors, console, err_console, write_output
from microverse.errors import MicroverseError

data_app = typer.Typer(name="data", help="MicroSim data pipeline: ingest, split, classify, filter, review, "
                                         "caption, export and report a video dataset.", no_args_is_help=True)

DatasetArg = Annotated[Path, typer.Argument(help="Dataset folder made by `microverse data ingest`.",
                                            show_default=False)]
EngineOpt = Annotated[str, typer.Option("--engine", help="local (process pool) or ray (Ray Data).")]
WorkersOpt = Annotated[int, typer.Option("--workers", "-j", min=1, help="Parallel workers (processes or Ray actors).")]
AddressOpt = Annotated[str | None, typer.Option("--address", help="Ray cluster address (e.g. auto); default: a "
                                                                  "local Ray.", show_default=False)]
RedoOpt = Annotated[bool, typer.Option("--redo", help="Forget this stage's results and run it again.")]

STAGES = ("split", "classify", "filter", "review", "caption", "export")


def _check_engine(engine: str) -> None:
    from microverse.data.engine import ENGINES

    if engine not in ENGINES:
        raise MicroverseError(f"unknown engine {engine!r}", fix=f"use one of: {', '.join(ENGINES)}")
    if engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise MicroverseError("the ray engine needs Ray", fix="pip install 'microverse[ray]'") from None


@contextmanager
def _progress(label: str) -> Iterator:
    """A Rich progress bar on stderr; yields the (done, total) callback stages call."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err_console, transient=True) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _dataset(path: Path):
    from microverse.data.ingest import open_dataset

    return open_dataset(path)


# -- ingest ------------------------------------------------------------------------------------
@data_app.command("ingest")
@clean_errors
def ingest(
    sources: Annotated[list[str], typer.Argument(help="Video files, folders, yt-dlp URLs, 'ytsearchN:query', or "
                                                      "recorded yt-dlp .info.json files.",
                                                 show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to create or extend.")],
    allow_vfr: Annotated[bool, typer.Option(help="Keep variable-frame-rate files (frame numbers then follow "
                                                 "the average rate).")] = False,
    min_height: Annotated[int, typer.Option(help="yt-dlp: smallest accepted resolution (short side).")] = 720,
    any_license: Annotated[bool, typer.Option("--any-license", help="yt-dlp: accept non-Creative-Commons "
                                                                    "videos.")] = False,
    info_only: Annotated[bool, typer.Option("--info-only", help="yt-dlp: record metadata and decisions, "
                                                                "download nothing.")] = False,
    engine: EngineOpt = "local", workers: WorkersOpt = 1, address: AddressOpt = None,
) -> None:
    """Add videos to a dataset: hash, probe, metadata sidecars; yt-dlp with the paper's filters."""
    from microverse.data.ingest import ingest_local
    from microverse.data.manifest import Manifest

    manifest = Manifest(out)
    remote = [s for s in sources if _is_remote(s)]
    local = [Path(s) for s in sources if not _is_remote(s)]
    summary: dict = {}
    if remote:
        from microverse.data.ytdlp import ingest_remote

        with _progress("yt-dlp") as tick:
            summary["yt-dlp"] = ingest_remote(manifest, remote, min_height=min_height, creative_commons=not any_license,
                                              download=not info_only, allow_vfr=allow_vfr, progress=tick)
    if local:
        _check_engine(engine)
        with _progress("ingest") as tick:
            summary["local"] = ingest_local(manifest, local, allow_vfr=allow_vfr, engine=engine, workers=workers,
                                            address=address, on_file=tick)
    if not manifest.exists:
        if remote:
            raise MicroverseError(f"yt-dlp returned no videos for {', '.join(remote)}",
                                  fix="check the URL or query, and the network connection (see yt-dlp's message)")
        raise MicroverseError("no video found in the given sources", fix="give video files or folders")
    _print_stage(manifest, "ingest", summary)


def _is_remote(source: str) -> bool:
    """URLs, yt-dlp search queries, and recorded yt-dlp ``.info.json`` files go through yt-dlp's rules."""
    return source.startswith(("http://", "https://", "ytsearch")) or source.endswith(".info.json")


def _print_stage(manifest, stage: str, summary: dict | None = None) -> None:
    from microverse.data.report import dropped_sources, funnel

    counts = funnel(manifest)["stages"].get(stage)
    if counts:
        reasons = ", ".join(f"{k}: {v}" for k, v in counts["reasons"].items())
        console.print(f"[bold]{stage}[/]: kept {counts['kept']}, dropped {counts['dropped']}"
                      + (f" ({reasons})" if reasons else ""), highlight=False)
    files = [d for d in dropped_sources(manifest) if d["stage"] == stage]
    for d in files[:5]:  # name the files (all of them: `data report`)
        console.print(f"  {d['path']}: {d['reason']}", highlight=False, markup=False, soft_wrap=True)
    if len(files) > 5:
        console.print(f"  … and {len(files) - 5} more (`microverse data report` lists them)", highlight=False)
    if summary:
        console.print(f"  {json.dumps(summary)}", highlight=False, markup=False)


# -- split -------------------------------------------------------------------------------------
@data_app.command("split")
@clean_errors
def split(
    dataset: DatasetArg,
    detector: Annotated[str, typer.Option(help="content (PySceneDetect, no weights) or clip (paper's rule).")]
    = "content",
    threshold: Annotated[float | None, typer.Option(help="Cut threshold: content score (default 27) or cosine "
                                                         "similarity (default 0.85).", show_default=False)] = None,
    clip_model: Annotated[str, typer.Option(help="CLIP vision model: hub id or local folder.")]
    = "openai/clip-vit-base-patch32",
    min_clip: Annotated[float, typer.Option(help="Seconds: cuts closer than this to the last are ignored.")] = 1.0,
    max_clip: Annotated[float, typer.Option(help="Seconds: longer scenes are cut into equal parts.")] = 60.0,
    width: Annotated[int, typer.Option(help="content: frames are analysed downscaled to this width (clip: "
                                            "the model's input size decides).")] = 160,
    device: Annotated[str, typer.Option(help="torch device for the CLIP detector.")] = "cpu",
    sample_fps: Annotated[float, typer.Option(help="CLIP: frames embedded per second before refining.")] = 4.0,
    batch_size: Annotated[int, typer.Option(min=1, help="CLIP: frames per forward pass.")] = 32,
    engine: EngineOpt = "local", workers: WorkersOpt = 1, address: AddressOpt = None, redo: RedoOpt = False,
) -> None:
    """Cut sources into clips where adjacent frames differ (frame-accurate)."""
    _check_engine(engine)
    from microverse.data.pipeline import split_sources
    from microverse.data.split import DETECTORS, SplitWorker, split_config

    if detector not in DETECTORS:
        raise MicroverseError(f"unknown detector {detector!r}", fix=f"use one of: {', '.join(DETECTORS)}")
    manifest = _dataset(dataset)
    config = split_config(detector=detector, threshold=threshold, clip_model=clip_model, min_clip=min_clip,
                          max_clip=max_clip, width=width,
                          device=device, sample_fps=sample_fps, batch_size=batch_size)
    with _progress("split") as tick:
        summary = split_sources(manifest, SplitWorker, config, engine=engine, workers=workers, address=address,
                                redo=redo, progress=tick, num_gpus=1.0 if device.startswith("cuda") else 0.0)
    _print_stage(manifest, "split", summary)


# -- classify ----------------------------------------------------------------------------------
@data_app.command("train-classifier")
@clean_errors
def train_classifier(
    labels: Annotated[Path, typer.Argument(help="CSV with label and video (or clip_id) columns.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the trained classifier.")],
    base: Annotated[str, typer.Option(help="VideoMAE to start from: hub id or local folder.")]
    = "MCG-NJU/videomae-base",
    dataset: Annotated[Path | None, typer.Option(help="Dataset folder resolving clip_id labels.",
                                                 show_default=False)] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Epochs (paper: 10).")] = 10,
    lr: Annotated[float, typer.Option(help="Learning rate (paper: 5e-5).")] = 5e-5,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    test_fraction: Annotated[float, typer.Option(help="Held-out share (paper: 0.2).")] = 0.2,
    seed: Annotated[int, typer.Option()] = 0,
    device: Annotated[str, typer.Option(help="torch device.")] = "cpu",
    loader_workers: Annotated[int, typer.Option(min=0, help="Processes decoding clips for training.")] = 0,
    frame_cache: Annotated[bool, typer.Option("--frame-cache/--no-frame-cache",
                                              help="Decode each training clip once, not once per epoch.")] = True,
    frame_cache_gb: Annotated[float, typer.Option(min=0, help="Memory for cached clips; the rest go to "
                                                              "OUT/frame-cache/ as .npy files.")] = 2.0,
) -> None:
    """Fine-tune the micro/non-micro VideoMAE classifier; prints accuracy and the confusion matrix."""
    from microverse.data.classify import read_labels, train

    items = read_labels(labels, dataset)
    with _progress("train") as tick:
        metrics = train(items, base, out, epochs=epochs, lr=lr, batch_size=batch_size,
                        test_fraction=test_fraction, seed=seed, device=device, loader_workers=loader_workers,
                        frame_cache=frame_cache, cache_memory_gb=frame_cache_gb, progress=tick)
    (tn, fp), (fn, tp) = metrics["confusion_matrix"]
    console.print(f"accuracy {metrics['accuracy']:.3f} on {metrics['n_test']} held-out clips "
                  f"(trained on {metrics['n_train']}); calibrated threshold {metrics['threshold']:.3f} "
                  f"-> accuracy {metrics['accuracy_at_threshold']:.3f}", highlight=False)
    console.print(f"confusion (rows true, cols predicted; non-micro, micro): [[{tn}, {fp}], [{fn}, {tp}]]",
                  highlight=False, markup=False)
    if cache := metrics["frame_cache"]:
        disk = f", {cache['on_disk']} in {cache['folder']} (reused by reruns; delete when done)" \
            if cache["on_disk"] else ""
        console.print(f"frame cache: {cache['decoded']} clips decoded for all epochs; {cache['in_memory']} held in "
                      f"memory ({cache['memory_mb']:.0f} MB){disk}", highlight=False, markup=False)
    console.print(f"saved {out}", highlight=False)


@data_app.command("classify")
@clean_errors
def classify(
    dataset: DatasetArg,
    model: Annotated[Path, typer.Option(help="Trained classifier folder (from train-classifier).")],
    threshold: Annotated[float | None, typer.Option(help="P(micro) needed to keep; default: the calibrated one.",
                                                    show_default=False)] = None,
    device: Annotated[str, typer.Option(help="torch device.")] = "cpu",
    batch_size: Annotated[int, typer.Option(min=1, help="Clips per forward pass.")] = 8,
    engine: EngineOpt = "local", workers: WorkersOpt = 1, address: AddressOpt = None, redo: RedoOpt = False,
) -> None:
    """Keep clips the VideoMAE classifier calls micro-simulation."""
    _check_engine(engine)
    from microverse.data.classify import ClassifyWorker, classify_config
    from microverse.data.pipeline import run_clip_stage

    manifest = _dataset(dataset)
    config = classify_config(model, threshold, device)
    with _progress("classify") as tick:
        summary = run_clip_stage(manifest, "classify", ClassifyWorker, config, engine=engine, workers=workers,
                                 address=address, redo=redo, progress=tick, batch_size=batch_size,
                                 num_gpus=1.0 if device.startswith("cuda") else 0.0)
    _print_stage(manifest, "classify", summary)


# -- filter ------------------------------------------------------------------------------------
@data_app.command("filter")
@clean_errors
def filter_(
    dataset: DatasetArg,
    min_side: Annotated[int, typer.Option(help="Smallest short side in pixels (720 = 720p).")] = 720,
    min_duration: Annotated[float, typer.Option(help="Shortest clip, seconds.")] = 5.0,
    max_duration: Annotated[float, typer.Option(help="Longest clip, seconds.")] = 60.0,
    borders: Annotated[str, typer.Option(help="Black borders: drop, crop (export crops) or off.")] = "drop",
    border_max: Annotated[float, typer.Option(help="Largest tolerated border, as a fraction of the side.")] = 0.02,
    text: Annotated[bool, typer.Option("--text/--no-text", help="Drop clips with burned-in text (RapidOCR).")]
    = True,
    text_frames: Annotated[float, typer.Option(help="Drop when text is on at least this share of OCR frames.")]
    = 0.34,
    motion: Annotated[bool, typer.Option("--motion/--no-motion", help="Drop stills and slideshows.")] = True,
    min_motion: Annotated[float, typer.Option(help="Median optical flow, pixels/frame at 160 px wide.")] = 0.05,
    samples: Annotated[int, typer.Option(min=1, help="Frames sampled per clip (each with its successor).")] = 5,
    engine: EngineOpt = "local", workers: WorkersOpt = 1, address: AddressOpt = None, redo: RedoOpt = False,
) -> None:
    """Drop clips out of bounds, with black borders, burned-in text, or no motion."""
    _check_engine(engine)
    from microverse.data.filters import BORDER_MODES, FilterWorker, filter_config
    from microverse.data.pipeline import run_clip_stage

    if borders not in BORDER_MODES:
        raise MicroverseError(f"unknown border mode {borders!r}", fix=f"use one of: {', '.join(BORDER_MODES)}")
    manifest = _dataset(dataset)
    config = filter_config(min_side=min_side, min_duration=min_duration, max_duration=max_duration,
                           borders=borders, border_max=border_max, text=text, text_frames=text_frames,
                           motion=motion, min_motion=min_motion, samples=samples)
    with _progress("filter") as tick:
        summary = run_clip_stage(manifest, "filter", FilterWorker, config, engine=engine, workers=workers,
                                 address=address, redo=redo, progress=tick)
    _print_stage(manifest, "filter", summary)


# -- review ------------------------------------------------------------------------------------
@data_app.command("review")
@clean_errors
def review(
    dataset: DatasetArg,
    export: Annotated[Path | None, typer.Option("--export", help="Write review.csv + contact sheets to this "
                                                                 "folder.", show_default=False)] = None,
    import_: Annotated[Path | None, typer.Option("--import", help="Read a filled review.csv back.",
                                                 show_default=False)] = None,
) -> None:
    """Expert check: export a review sheet with contact sheets, or import the verdicts."""
    from microverse.data import review as reviews

    if (export is None) == (import_ is None):
        raise MicroverseError("give exactly one of --export FOLDER or --import SHEET.csv")
    manifest = _dataset(dataset)
    if export is not None:
        with _progress("contact sheets") as tick:
            sheet = reviews.export_sheet(manifest, export, progress=tick)
        console.print(f"wrote {sheet}; fill the verdict column (keep/drop) and run --import", highlight=False)
    else:
        counts = reviews.import_sheet(manifest, import_)
        _print_stage(manifest, "review", counts)


# -- caption -----------------------------------------------------------------------------------
@data_app.command("caption")
@clean_errors
def caption(
    dataset: DatasetArg,
    model: Annotated[str, typer.Option(help="Multimodal model name (paper: gpt-4o); hf:ID runs locally.")]
    = "gpt-4o",
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint; default OPENAI_BASE_URL or "
                                                      "api.openai.com. Key: OPENAI_API_KEY.", show_default=False)]
    = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight.")] = 16,
    frames: Annotated[int, typer.Option(min=1, help="Frames per clip (paper: 8).")] = 8,
    width: Annotated[int, typer.Option(help="Frame width sent, pixels.")] = 512,
    min_words: Annotated[int, typer.Option(help="Shorter captions are re-asked once, then dropped.")] = 60,
    max_words: Annotated[int, typer.Option(help="Longer captions are re-asked once, then dropped.")] = 400,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 120.0,
    reviewed_only: Annotated[bool, typer.Option("--reviewed-only", help="Only clips an expert kept (paper "
                                                                         "order: review, then caption).")] = False,
    redo: RedoOpt = False,
) -> None:
    """Caption clips from 8 frames + the source's title and description (paper's prompt)."""
    from microverse.data.caption import caption_dataset
    from microverse.judge.providers.factory import make_provider

    manifest = _dataset(dataset)
    provider = make_provider(model, base_url=base_url, concurrency=concurrency, timeout_s=timeout)
    with _progress("caption") as tick:
        summary = caption_dataset(manifest, provider, frames=frames, width=width, min_words=min_words,
                                  max_words=max_words, concurrency=concurrency, redo=redo,
                                  reviewed_only=reviewed_only, progress=tick)
    _print_stage(manifest, "caption", summary)


# -- export ------------------------------------------------------------------------------------
@data_app.command("export")
@clean_errors
def export(
    dataset: DatasetArg,
    out: Annotated[Path, typer.Option("--out", "-o", help="Training-set folder (metadata.json + videos/).")],
    prompt_from: Annotated[str, typer.Option(help="caption (paper) or title.")] = "caption",
    test_fraction: Annotated[float, typer.Option(help="Share of *source videos* held out.")] = 0.1,
    webdataset: Annotated[bool, typer.Option("--webdataset", help="Also write WebDataset tar shards.")] = False,
    shard_size: Annotated[int, typer.Option(min=1, help="Clips per shard.")] = 1000,
    crf: Annotated[int, typer.Option(help="x264 quality of the clip files (lower = better).")] = 18,
    engine: EngineOpt = "local", workers: WorkersOpt = 1, address: AddressOpt = None,
) -> None:
    """Write the training set: metadata.json (id, video, prompt), parquet, shards, dataset card."""
    _check_engine(engine)
    from microverse.data.export import export_dataset

    manifest = _dataset(dataset)
    with _progress("export") as tick:
        summary = export_dataset(manifest, out, prompt_from=prompt_from, test_fraction=test_fraction,
                                 webdataset=webdataset, shard_size=shard_size, crf=crf, engine=engine,
                                 workers=workers, address=address, progress=tick)
    console.print(json.dumps(summary), highlight=False, markup=False)


# -- report ------------------------------------------------------------------------------------
@data_app.command("report")
@clean_errors
def report(
    dataset: DatasetArg,
    fmt: Annotated[str, typer.Option("--format", help="json (funnel + per clip), text, or html "
                                                      "(with PNG plots).")] = "text",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here instead of stdout (html: a "
                                                                 "folder).", show_default=False)] = None,
) -> None:
    """The funnel per stage with reasons, per-clip decisions, and distribution plots."""
    from microverse.data import report as reports

    manifest = _dataset(dataset)
    if fmt == "json":
        write_output(json.dumps(reports.report_json(manifest), indent=2), out)
    elif fmt == "text":
        write_output(reports.report_text(manifest), out)
    elif fmt == "html":
        folder = out or (manifest.root / "report")
        page = reports.report_html(manifest, folder)
        err_console.print(f"wrote {page}")
    else:
        raise MicroverseError(f"unknown format {fmt!r}", fix="use json, text or html")


# -- run ---------------------------------------------------------------------------------------
@data_app.command("run")
@clean_errors
def run(
    dataset: DatasetArg,
    until: Annotated[str, typer.Option(help=f"Last stage to run: {', '.join(STAGES)}.")] = "filter",
    classifier: Annotated[Path | None, typer.Option(help="Trained classifier folder; without it classify "
                                                         "is skipped.", show_default=False)] = None,
    min_clip: Annotated[float, typer.Option(help="split: shortest scene, s.")] = 1.0,
    min_side: Annotated[int, typer.Option(help="filter: smallest short side.")] = 720,
    min_duration: Annotated[float, typer.Option(help="filter: shortest clip, s.")] = 5.0,
    max_duration: Annotated[float, typer.Option(help="filter: longest clip, s (split cuts longer scenes).")]
    = 60.0,
    borders: Annotated[str, typer.Option(help="filter: drop, crop or off.")] = "drop",
    caption_model: Annotated[str | None, typer.Option(help="caption: model; without it caption is skipped.",
                                                      show_default=False)] = None,
    base_url: Annotated[str | None, typer.Option(help="caption: OpenAI-compatible endpoint.",
                                                 show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="export: training-set folder; without it export "
                                                           "is skipped.", show_default=False)] = None,
    engine: EngineOpt = "local", workers: WorkersOpt = 1, address: AddressOpt = None,
) -> None:
    """Run the stages in order up to --until; a finished stage is skipped, so a rerun resumes.

    review is the human step: its verdicts (imported whenever they are ready) apply to every
    later stage, and run does not wait for them.
    """
    if until not in STAGES:
        raise MicroverseError(f"unknown stage {until!r}", fix=f"use one of: {', '.join(STAGES)}")
    common = dict(engine=engine, workers=workers, address=address)
    for stage in STAGES[: STAGES.index(until) + 1]:
        if stage == "split":
            split(dataset, detector="content", threshold=None, clip_model="", min_clip=min_clip,
                  max_clip=max_duration, width=160, device="cpu", sample_fps=4.0, batch_size=32, redo=False,
                  **common)
        elif stage == "classify" and classifier is None:
            err_console.print("classify: skipped (no --classifier)")
        elif stage == "classify":
            classify(dataset, model=classifier, threshold=None, device="cpu", batch_size=8, redo=False, **common)
        elif stage == "filter":
            filter_(dataset, min_side=min_side, min_duration=min_duration, max_duration=max_duration,
                    borders=borders, border_max=0.02, text=True, text_frames=0.34, motion=True, min_motion=0.05,
                    samples=5, redo=False, **common)
        elif stage == "review":
            err_console.print("review: human step (microverse data review --export/--import); not waited for")
        elif stage == "caption" and caption_model is None:
            err_console.print("caption: skipped (no --caption-model)")
        elif stage == "caption":
            caption(dataset, model=caption_model, base_url=base_url, concurrency=16, frames=8, width=512,
                    min_words=60, max_words=400, timeout=120.0, reviewed_only=False, redo=False)
        elif stage == "export" and out is None:
            err_console.print("export: skipped (no --out)")
        elif stage == "export":
            export(dataset, out=out, prompt_from="caption" if caption_model else "title", test_fraction=0.1,
                   webdataset=False, shard_size=1000, crf=18, **common)


def register(app: typer.Typer) -> None:
    """Add this capability's commands to the root app."""
    app.add_typer(data_app)
