"""Generation: tiny folder loads offline, batched CFG equals stock WanPipeline, mp4 + sidecar, bench runs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.errors import MicroverseError
from microverse.model.pipelines import generate as gen
from microverse.model.pipelines.video_io import read_video

runner = CliRunner()


def test_tiny_folder_loads_offline_with_stock_wan_pipeline(tiny_model):
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(tiny_model)
    ids = pipe.tokenizer("A mitochondrion, 2 cristae!").input_ids
    assert ids[-1] == pipe.tokenizer.eos_token_id and pipe.tokenizer.unk_token_id not in ids
    assert (tiny_model / "model_index.json").is_file()


def test_batched_guidance_matches_stock_pipeline(tiny_model):
    from diffusers import WanPipeline

    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    args = dict(prompt="cells divide", negative_prompt="blurry", num_inference_steps=3, guidance_scale=5.0,
                output_type="latent", **{"height": 64, "width": 64, "num_frames": 9})
    stock = WanPipeline.from_pretrained(tiny_model)(generator=torch.Generator().manual_seed(3), **args).frames
    ours = MicroVersePipeline.from_pretrained(tiny_model)
    batched = ours(generator=torch.Generator().manual_seed(3), **args).frames
    separate = ours(generator=torch.Generator().manual_seed(3), batch_cfg=False, **args).frames
    assert torch.equal(separate, stock)
    torch.testing.assert_close(batched, stock, rtol=1e-4, atol=1e-5)
    other_seed = ours(generator=torch.Generator().manual_seed(4), **args).frames
    assert not torch.allclose(other_seed, stock)


def test_generate_prompt_writes_mp4_and_sidecar(tiny_model, tmp_path):
    out = tmp_path / "v.mp4"
    result = runner.invoke(app, ["generate", "--prompt", "a neuron fires", "--out", str(out), "--model",
                                 str(tiny_model), "--height", "64", "--width", "96", "--frames", "9",
                                 "--steps", "2", "--seed", "7"])
    assert result.exit_code == 0, result.output
    frames = read_video(out)
    assert frames.shape == (9, 64, 96, 3)
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert sidecar["seed"] == 7 and sidecar["steps"] == 2 and sidecar["prompt"] == "a neuron fires"
    assert sidecar["model"] == str(tiny_model) and sidecar["guidance"] == 5.0
    assert sidecar["device"] == "cpu" and "diffusers" in sidecar["versions"]
    assert sidecar["speed"] == {"attention_backend": "auto"} and sidecar["attention_backend"] is None  # CPU: kept


def test_generate_with_a_named_attention_backend_matches_the_default(tiny_model, tmp_path):
    common = ["--model", str(tiny_model), "--height", "64", "--width", "64", "--frames", "5", "--steps", "2"]
    for name, backend in (("default", "default"), ("math", "_native_math")):
        result = runner.invoke(app, ["generate", "--prompt", "a cell", "--out", str(tmp_path / f"{name}.mp4"),
                                     "--attention-backend", backend, *common])
        assert result.exit_code == 0, result.output
    sidecar = json.loads((tmp_path / "math.json").read_text())
    assert sidecar["speed"] == {"attention_backend": "_native_math"} and sidecar["attention_backend"] == "_native_math"
    assert json.loads((tmp_path / "default.json").read_text())["attention_backend"] is None
    default, math = read_video(tmp_path / "default.mp4"), read_video(tmp_path / "math.mp4")
    assert np.abs(default.astype(int) - math.astype(int)).max() <= 2  # exact attention: same video up to rounding


def test_generate_rejects_bad_settings_with_one_line(tiny_model, tmp_path):
    result = runner.invoke(app, ["generate", "--prompt", "x", "--out", str(tmp_path / "v.mp4"),
                                 "--model", str(tiny_model), "--frames", "10"])
    assert result.exit_code == 2 and "4k+1" in result.output and "Traceback" not in result.output



def test_an_unusable_attention_backend_is_one_clean_line(tiny_model, tmp_path):
    from diffusers.models.attention_dispatch import _AttentionBackendRegistry

    default = _AttentionBackendRegistry._active_backend
    # a typo; a kernel not installed; a kernel diffusers accepts but that cannot run on a CPU
    for backend, says in (("flsh", "diffusers has: _flash_3"), ("flash", "flash-attn"), ("_native_cudnn", "")):
        result = runner.invoke(app, ["generate", "--prompt", "x", "--out", str(tmp_path / "v.mp4"), "--model",
                                     str(tiny_model), "--height", "64", "--width", "64", "--frames", "5", "--steps",
                                     "1", "--attention-backend", backend])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert f"attention backend '{backend}' cannot be used here" in result.output and says in result.output
    assert not (tmp_path / "v.mp4").exists()
    assert _AttentionBackendRegistry._active_backend == default  # diffusers' process-wide default is untouched

@pytest.mark.slow
def test_step_cache_and_compiled_blocks_combine(tiny_model):
    """Compiled with graph breaks allowed, the cached pipeline gives the uncompiled cached result; a
    high threshold makes the cache skip steps, so the combination is really exercised."""
    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    args = dict(prompt="cells divide", negative_prompt="blurry", num_inference_steps=5, output_type="latent",
                height=64, width=64, num_frames=5)
    pipe = MicroVersePipeline.from_pretrained(tiny_model)
    pipe.set_progress_bar_config(disable=True)
    plain = pipe(generator=torch.Generator().manual_seed(0), **args).frames
    pipe.optimize(step_cache_threshold=0.5)
    cached = pipe(generator=torch.Generator().manual_seed(0), **args).frames
    assert not torch.allclose(cached, plain)  # steps were skipped
    pipe.optimize(compile_blocks=True)
    torch.testing.assert_close(pipe(generator=torch.Generator().manual_seed(0), **args).frames, cached,
                               rtol=1e-4, atol=1e-4)


def test_shards_partition_and_resume_skips_finished(tmp_path):
    jobs = [gen.Job(i, f"p{i}") for i in range(1, 8)]
    shards = [gen.pending(jobs, tmp_path, (i, 3)) for i in range(3)]
    assert sorted(j.index for s in shards for j in s) == list(range(1, 8))
    (tmp_path / "1.mp4").write_bytes(b"x")
    assert 1 in {j.index for j in gen.pending(jobs, tmp_path, (0, 1))}  # no sidecar yet: not finished
    (tmp_path / "1.json").write_text("{}")
    assert 1 not in {j.index for j in gen.pending(jobs, tmp_path, (0, 1))}
    with pytest.raises(MicroverseError):
        gen.parse_shard("3/3")
    assert gen.parse_tasks("1, 5,9") == {1, 5, 9}


class _FramesPipe:
    """Stands in for a loaded pipeline: logs each call, returns a 5x16x16 clip per prompt."""

    device = "cpu"

    def __init__(self, log):
        self.log = log

    def set_progress_bar_config(self, **kw):
        pass

    def __call__(self, prompt, **kw):
        self.log.append(("sample", prompt))
        level = int(prompt[1:]) / 10
        return type("Out", (), {"frames": [np.full((5, 16, 16, 3), level, dtype=np.float32)]})()


def _spec_with(pipe):
    spec = gen.ModelSpec(model="fake")
    spec.load = lambda settings: pipe
    return spec


def test_run_jobs_writes_while_sampling_and_reports_only_videos_on_disk(tmp_path, monkeypatch):
    log = []
    write = gen.write_video

    def logged_write(frames, sidecar, out):
        log.append(("write", out.name))
        return write(frames, sidecar, out)

    monkeypatch.setattr(gen, "write_video", logged_write)
    settings = gen.GenerationSettings(height=16, width=16, frames=5, steps=1)
    jobs = [gen.Job(i, f"p{i}") for i in (1, 2, 3)]

    def done(job):
        assert (tmp_path / f"{job.index}.mp4").is_file() and (tmp_path / f"{job.index}.json").is_file()
        log.append(("done", job.index))

    gen.run_jobs(jobs, tmp_path, settings, _spec_with(_FramesPipe(log)), on_done=done)
    assert [e for e in log if e[0] == "done"] == [("done", 1), ("done", 2), ("done", 3)]
    # video 1 is reported only after video 2 was sampled: its write overlapped the next sampling
    assert log.index(("sample", "p2")) < log.index(("done", 1))
    assert json.loads((tmp_path / "3.json").read_text())["task"] == 3
    assert abs(read_video(tmp_path / "2.mp4").mean() - 0.2 * 255) < 2


def test_run_jobs_stops_on_a_failed_write_and_keeps_the_finished_videos(tmp_path, monkeypatch):
    write = gen.write_video

    def failing_write(frames, sidecar, out):
        if out.name == "2.mp4":
            raise OSError("disk full")
        return write(frames, sidecar, out)

    monkeypatch.setattr(gen, "write_video", failing_write)
    done = []
    jobs = [gen.Job(i, f"p{i}") for i in (1, 2, 3)]
    with pytest.raises(OSError, match="disk full"):
        gen.run_jobs(jobs, tmp_path, gen.GenerationSettings(height=16, width=16, frames=5, steps=1),
                     _spec_with(_FramesPipe([])), on_done=lambda job: done.append(job.index))
    assert done == [1] and [j.index for j in gen.pending(jobs, tmp_path, (0, 1))] == [2, 3]


@pytest.mark.slow
def test_bench_generates_selected_tasks_and_resumes(tiny_model, tmp_path, official_dir):
    out = tmp_path / "videos"
    args = ["generate", "--bench", "--benchmark", str(official_dir), "--tasks", "2,5", "--out", str(out),
            "--model", str(tiny_model), "--height", "64", "--width", "64", "--frames", "5", "--steps", "1"]
    assert runner.invoke(app, args).exit_code == 0
    assert sorted(p.name for p in out.glob("*.mp4")) == ["2.mp4", "5.mp4"]
    assert json.loads((out / "5.json").read_text())["task"] == 5
    before = (out / "2.mp4").stat().st_mtime_ns
    (out / "5.mp4").unlink()
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "1 videos to generate" in result.output
    assert (out / "2.mp4").stat().st_mtime_ns == before and (out / "5.mp4").is_file()
    assert np.asarray(read_video(out / "5.mp4")).shape[0] == 5


def test_checkpoint_file_with_diffusers_keys_replaces_the_weights(tiny_model, tmp_path):
    from safetensors.torch import save_file

    from microverse.model.pipelines.loading import load_pipeline

    base = load_pipeline(str(tiny_model), device="cpu")
    state = {k: v + 0.01 for k, v in base.transformer.state_dict().items()}
    save_file(state, str(tmp_path / "ft.safetensors"))
    tuned = load_pipeline(str(tiny_model), checkpoint=tmp_path / "ft.safetensors", device="cpu")
    assert all(torch.equal(v, state[k]) for k, v in tuned.transformer.state_dict().items())
    save_file({"nonsense.weight": torch.zeros(2)}, str(tmp_path / "bad.safetensors"))
    with pytest.raises(MicroverseError, match="do not fit"):
        load_pipeline(str(tiny_model), checkpoint=tmp_path / "bad.safetensors", device="cpu")


def test_bf16_loading_keeps_the_fp32_modules_with_fine_tuned_weights(tiny_model, tmp_path):
    """As diffusers' from_pretrained: norms, rope, time embedder and modulation stay fp32 under bf16."""
    from microverse.model.pipelines.loading import load_pipeline

    base = load_pipeline(str(tiny_model), device="cpu", dtype=torch.bfloat16)
    dtypes = {k: v.dtype for k, v in base.transformer.state_dict().items()}
    assert dtypes["scale_shift_table"] == torch.float32 and dtypes["proj_out.weight"] == torch.bfloat16
    base.transformer.save_pretrained(tmp_path / "ft")
    tuned = load_pipeline(str(tiny_model), checkpoint=tmp_path / "ft", device="cpu", dtype=torch.bfloat16)
    assert {k: v.dtype for k, v in tuned.transformer.state_dict().items()} == dtypes


def test_same_frames_give_the_same_mp4_bytes(tmp_path):
    from microverse.model.pipelines.video_io import write_mp4

    frames = np.random.default_rng(0).uniform(0, 1, (9, 32, 48, 3)).astype(np.float32)
    a, b = write_mp4(frames, tmp_path / "a.mp4"), write_mp4(frames, tmp_path / "b.mp4")
    assert a.read_bytes() == b.read_bytes()
    assert read_video(a).shape == (9, 32, 48, 3) and not list(tmp_path.glob(".*partial*"))


def test_ray_engine_runs_one_task_per_shard(monkeypatch, tmp_path):
    """The Ray path's own logic (sharding, waiting, reporting) with an in-process stand-in for Ray."""
    import sys
    import types

    calls, done = [], []

    class Ref:
        def __init__(self, value):
            self.value = value

    def remote(**options):
        assert options == {"num_gpus": 0}
        return lambda fn: types.SimpleNamespace(remote=lambda *a: Ref(calls.append(a[0]) or fn.__name__))

    fake = types.SimpleNamespace(init=lambda **kw: None, cluster_resources=lambda: {"CPU": 4.0}, remote=remote,
                                 wait=lambda refs, num_returns: ([refs[0]], refs[1:]), get=lambda ref: ref.value)
    monkeypatch.setitem(sys.modules, "ray", fake)
    jobs = [gen.Job(i, f"p{i}") for i in range(5)]
    gen.run_jobs_on_ray(jobs, tmp_path, None, None, workers=2, on_done=done.append)
    assert [[j.index for j in shard] for shard in calls] == [[0, 2, 4], [1, 3]]
    assert sorted(j.index for j in done) == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_ray_engine_writes_the_same_videos_as_local(tiny_model, tmp_path):
    """On a local Ray cluster: same files, byte for byte (same seeds, deterministic mp4 writing)."""
    ray = pytest.importorskip("ray", reason="the ray extra is not installed")
    from microverse.model.configs import GenerationSettings

    jobs = [gen.Job(i, f"a cell, number {i}") for i in (1, 2, 3)]
    settings = GenerationSettings(height=32, width=32, frames=5, steps=1)
    spec = gen.ModelSpec(model=str(tiny_model), device="cpu")
    gen.run_jobs(jobs, tmp_path / "local", settings, spec)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        gen.run_jobs_on_ray(jobs, tmp_path / "ray", settings, spec, workers=2)
    finally:
        ray.shutdown()
    for job in jobs:
        assert (tmp_path / "ray" / f"{job.index}.mp4").read_bytes() == (tmp_path / "local" / f"{job.index}.mp4").read_bytes()


def test_attention_auto_times_only_usable_exact_backends():
    from microverse.model.pipelines.attention import fastest_attention_backend, video_tokens

    assert video_tokens(81, 480, 832) == 21 * 30 * 52  # 32,760 tokens per 480p Wan2.1 video
    best, seconds = fastest_attention_backend(2, 8, 64, device="cpu", candidates=("native", "_native_math", "flash"),
                                              repeats=1)
    assert set(seconds) == {"native", "_native_math"}  # flash-attn is not installed: skipped, not fatal
    assert best in seconds and all(s > 0 for s in seconds.values())
    with pytest.raises(RuntimeError, match="no attention backend"):
        fastest_attention_backend(2, 8, 64, device="cpu", candidates=("flash",))



def test_attention_auto_is_timed_at_the_size_being_generated(tiny_model, monkeypatch):
    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    timed = []
    monkeypatch.setattr(MicroVersePipeline, "_fastest_attention_backend", lambda self, size: timed.append(size))
    spec = gen.ModelSpec(model=str(tiny_model), device="cpu", speed={"attention_backend": "auto"})
    spec.load(gen.GenerationSettings(height=64, width=48, frames=9, steps=1))
    assert timed == [(9, 64, 48)]

def test_attention_auto_with_no_working_kernel_is_one_clean_error(tiny_model, monkeypatch):
    """On a GPU where every kernel fails, auto stops with our error before sampling, not a traceback."""
    from microverse.model.pipelines import attention
    from microverse.model.pipelines.loading import load_pipeline
    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    def nothing_runs(*args, **kwargs):
        raise RuntimeError("no attention backend ran on this machine")

    monkeypatch.setattr(MicroVersePipeline, "_transformer_device", lambda self: torch.device("cuda"))
    monkeypatch.setattr(attention, "fastest_attention_backend", nothing_runs)
    pipe = load_pipeline(str(tiny_model))
    with pytest.raises(MicroverseError, match="'auto' cannot be used here: no attention backend ran"):
        pipe.optimize(attention_backend="auto")


def test_attention_auto_skips_a_backend_that_runs_but_computes_garbage(monkeypatch):
    from diffusers.models import attention_dispatch

    from microverse.model.pipelines.attention import fastest_attention_backend

    real = attention_dispatch.dispatch_attention_fn
    monkeypatch.setattr(attention_dispatch, "dispatch_attention_fn", lambda q, k, v, backend: (
        real(q, k, v, backend=backend) * (float("nan") if backend == "_native_math" else 1)))
    _, seconds = fastest_attention_backend(2, 8, 64, device="cpu", candidates=("native", "_native_math"), repeats=1)
    assert set(seconds) == {"native"}


def test_lora_hub_ids_go_to_the_hub_and_local_paths_stay_local(tiny_model, tmp_path, monkeypatch):
    from microverse.model.pipelines import loading
    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    calls = []
    monkeypatch.setattr(MicroVersePipeline, "load_lora_weights", lambda self, *a, **k: calls.append((a, k)))
    pipe = MicroVersePipeline.from_pretrained(tiny_model)
    loading._load_lora(pipe, "some-user/wan-lora")
    assert calls[-1] == (("some-user/wan-lora",), {"adapter_name": "microverse"})
    (tmp_path / "run" / "final").mkdir(parents=True)
    (tmp_path / "run" / "final" / loading.LORA_FILE).write_bytes(b"")
    loading._load_lora(pipe, str(tmp_path / "run"))
    assert calls[-1][1]["weight_name"] == loading.LORA_FILE and calls[-1][0] == (str(tmp_path / "run" / "final"),)
    with pytest.raises(MicroverseError, match="no LoRA weights"):
        loading._load_lora(pipe, "./missing/lora")  # looks local: never sent to the hub
    monkeypatch.setattr(MicroVersePipeline, "load_lora_weights", lambda self, *a, **k: 1 / 0)
    with pytest.raises(MicroverseError, match="from the hub"):
        loading._load_lora(pipe, "some-user/wan-lora")


def test_vae_tiling_and_offload_options(tiny_model, tmp_path):
    from microverse.model.pipelines.loading import load_pipeline

    assert load_pipeline(str(tiny_model), device="cpu", vae_tiling=True).vae.use_tiling
    out = tmp_path / "tiled.mp4"
    result = runner.invoke(app, ["generate", "--prompt", "a cell", "--out", str(out), "--model", str(tiny_model),
                                 "--height", "64", "--width", "64", "--frames", "5", "--steps", "1", "--vae-tiling"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".json").read_text())["memory"] == {"vae_tiling": True}
    offload = runner.invoke(app, ["generate", "--prompt", "a cell", "--out", str(tmp_path / "o.mp4"), "--model",
                                  str(tiny_model), "--device", "cpu", "--offload"])
    assert offload.exit_code == 2 and "needs a GPU" in offload.output
