"""Training: loss goes down, exact resume, LoRA save/load/fuse, latent cache == on-the-fly, bad input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.errors import MicroverseError
from microverse.model.configs import TrainSettings
from microverse.model.training.trainer import TrainJob, train
from tests.model.conftest import TRAIN_SIZE

runner = CliRunner()
BASE = TrainSettings(batch_size=2, micro_batch_size=1, mixed_precision="no", save_every=0, **TRAIN_SIZE)


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_file(str(run / "final" / "transformer" / "diffusion_pytorch_model.safetensors"))


def test_training_lowers_loss_on_a_repeated_batch(tiny_model, tiny_dataset, tmp_path):
    settings = replace(BASE, learning_rate=1e-3, max_steps=12, text_dropout=0.0, seed=1)
    run = tmp_path / "run"
    result = train(TrainJob(tiny_dataset, run, str(tiny_model), settings))
    rows = [line.split(",") for line in (run / "loss.csv").read_text().splitlines()[1:]]
    losses = [float(r[1]) for r in rows]
    assert [int(r[0]) for r in rows] == list(range(1, 13)) and result.step == 12
    # Per-step losses are noisy (each step draws its own noise level): compare the first and last four.
    assert sum(losses[-4:]) < sum(losses[:4])
    assert (run / "loss.png").is_file()


def test_one_step_on_a_fixed_batch_lowers_its_loss(tiny_model):
    """The objective itself: one AdamW step on a fixed (latents, text, noise, sigma) lowers its loss."""
    from diffusers import WanTransformer3DModel

    from microverse.model.training.flow_matching import flow_matching_loss, sample_sigmas

    model = WanTransformer3DModel.from_pretrained(tiny_model, subfolder="transformer").train()
    gen = torch.Generator().manual_seed(0)
    latents, noise = torch.randn(2, 16, 2, 4, 4, generator=gen), torch.randn(2, 16, 2, 4, 4, generator=gen)
    text, sigmas = torch.randn(2, 512, 32, generator=gen), sample_sigmas(2, 5.0, gen)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before = flow_matching_loss(model, latents, text, noise, sigmas)
    before.backward()
    opt.step()
    with torch.no_grad():
        after = flow_matching_loss(model, latents, text, noise, sigmas)
    assert after < before


@pytest.mark.slow
def test_stop_and_resume_is_bit_identical_to_a_straight_run(tiny_model, tiny_dataset, tmp_path):
    settings = replace(BASE, max_steps=4, save_every=2, learning_rate=1e-3, batch_size=4, micro_batch_size=2,
                       warmup_steps=3)
    straight = tmp_path / "straight"
    train(TrainJob(tiny_dataset, straight, str(tiny_model), settings))
    split = tmp_path / "split"
    train(TrainJob(tiny_dataset, split, str(tiny_model), replace(settings, max_steps=2)))
    assert not (split / "checkpoints" / "step-000004").exists()
    with pytest.raises(MicroverseError, match="--resume"):
        train(TrainJob(tiny_dataset, split, str(tiny_model), settings))
    train(TrainJob(tiny_dataset, split, str(tiny_model), settings, resume=True))
    a, b = weights(straight), weights(split)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    base = load_file(str(tiny_model / "transformer" / "diffusion_pytorch_model.safetensors"))
    assert any(not torch.equal(a[k], base[k]) for k in a)  # training did change the weights
    curve = lambda run: (run / "loss.csv").read_text()  # noqa: E731
    assert curve(straight) == curve(split)
    with pytest.raises(MicroverseError, match="different settings"):
        train(TrainJob(tiny_dataset, split, str(tiny_model), replace(settings, learning_rate=1.0), resume=True))


@pytest.mark.slow
def test_lora_trains_saves_loads_and_fuses(tiny_model, tiny_dataset, tmp_path):
    from microverse.model.pipelines.loading import load_pipeline
    from microverse.model.pipelines.pipeline_microverse import MicroVersePipeline

    run = tmp_path / "lora"
    train(TrainJob(tiny_dataset, run, str(tiny_model),
                   replace(BASE, max_steps=3, lora_rank=4, learning_rate=5e-2, save_every=1, keep_checkpoints=2)))
    lora_file = run / "final" / "pytorch_lora_weights.safetensors"
    state = load_file(str(lora_file))
    assert state and all(k.startswith("transformer.") and "lora" in k for k in state)
    assert (run / "checkpoints" / "step-000003" / "pytorch_lora_weights.safetensors").is_file()
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-000002", "step-000003"]
    assert not (run / "final" / "transformer").exists()  # the base weights are not copied

    args = dict(prompt="cell", height=32, width=32, num_frames=5, num_inference_steps=2, output_type="latent")
    unfused = MicroVersePipeline.from_pretrained(tiny_model)
    unfused.load_lora_weights(str(lora_file))
    with_adapter = unfused(generator=torch.Generator().manual_seed(0), **args).frames
    fused = load_pipeline(str(tiny_model), lora=run, device="cpu")  # run folder -> final LoRA, fused
    assert not any("lora" in n for n, _ in fused.transformer.named_modules())
    fused_out = fused(generator=torch.Generator().manual_seed(0), **args).frames
    base_out = MicroVersePipeline.from_pretrained(tiny_model)(generator=torch.Generator().manual_seed(0), **args).frames
    torch.testing.assert_close(fused_out, with_adapter, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(fused_out, base_out, atol=1e-4)


@pytest.mark.slow
def test_precompute_cache_gives_the_same_training_as_encoding_on_the_fly(tiny_model, tiny_dataset, tmp_path):
    cache = tmp_path / "cache"
    args = ["precompute", "--data", str(tiny_dataset), "--model", str(tiny_model), "--cache", str(cache),
            "--height", "32", "--width", "32", "--frames", "5", "--device", "cpu"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in cache.glob("clip_*.safetensors")) == [f"clip_{k}.safetensors" for k in range(4)]
    item = load_file(str(cache / "clip_0.safetensors"))
    assert item["latents"].shape == (16, 2, 4, 4) and item["text"].shape[-1] == 32
    assert json.loads((cache / "manifest.json").read_text())["key"]["frames"] == 5
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "cached 0 new examples" in again.output

    settings = replace(BASE, max_steps=2, learning_rate=1e-3)
    cached = train(TrainJob(tiny_dataset, tmp_path / "cached", str(tiny_model), settings, cache=cache))
    fly = train(TrainJob(tiny_dataset, tmp_path / "fly", str(tiny_model), settings))
    assert cached.used_cache and not fly.used_cache
    a, b = weights(tmp_path / "cached"), weights(tmp_path / "fly")
    assert all(torch.equal(a[k], b[k]) for k in a)

    other = runner.invoke(app, [*args[:-8], "--height", "64", "--width", "32", "--frames", "5"])
    assert other.exit_code == 2 and "other settings" in other.output


def test_train_cli_reports_bad_data_in_one_line(tiny_model, tmp_path):
    bad = tmp_path / "metadata.json"
    bad.write_text(json.dumps([{"id": "a", "video": "missing.mp4"}]))
    result = runner.invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "run"),
                                 "--model", str(tiny_model), "--mixed-precision", "no"])
    assert result.exit_code == 2 and "prompt" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


def test_train_cli_runs_and_generate_uses_the_checkpoint(tiny_model, tiny_dataset, tmp_path):
    run = tmp_path / "run"
    result = runner.invoke(app, ["train", "--data", str(tiny_dataset), "--out", str(run), "--model",
                                 str(tiny_model), "--max-steps", "2", "--save-every", "1", "--batch-size", "2",
                                 "--mixed-precision", "no", "--height", "32", "--width", "32", "--frames", "5",
                                 "--lr", "1e-2", "--validate-every", "2", "--validation-prompt", "a cell",
                                 "--validation-steps", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["step-000001", "step-000002"]
    sample = run / "samples" / "step-000002" / "0.mp4"
    assert sample.is_file() and json.loads(sample.with_suffix(".json").read_text())["prompt"] == "a cell"
    out = tmp_path / "ft.mp4"
    result = runner.invoke(app, ["generate", "--prompt", "cell", "--out", str(out), "--model", str(tiny_model),
                                 "--checkpoint", str(run), "--height", "32", "--width", "32", "--frames", "5",
                                 "--steps", "1"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.with_suffix(".json").read_text())["checkpoint"] == str(run)


def test_batches_cover_each_epoch_once_and_split_across_processes():
    from microverse.model.training.batches import StepBatches

    one = StepBatches(size=6, global_batch=4, micro_batch=1, world=1, rank=0, seed=3, start_step=0, max_steps=3)
    stream = [i for batch in one for i in batch]
    assert sorted(stream[:6]) == list(range(6)) and sorted(stream[6:12]) == list(range(6))
    ranks = [StepBatches(6, 4, 1, 2, r, 3, 0, 3) for r in range(2)]
    assert sorted(i for r in ranks for i in r.indices(1, 0) + r.indices(1, 1)) == sorted(
        one.indices(1, m)[0] for m in range(4))
    resumed = StepBatches(6, 4, 1, 1, 0, 3, start_step=2, max_steps=3)
    assert list(resumed) == list(one)[8:]
    with pytest.raises(ValueError):
        StepBatches(6, 4, 3, 1, 0, 3, 0, 1)


def test_parquet_records_with_alias_columns(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from microverse.model.training.data import load_records

    pq.write_table(pa.table({"path": ["v/a.mp4", "/abs/b.mp4"], "caption": ["a", "b"]}), tmp_path / "d.parquet")
    records = load_records(tmp_path / "d.parquet")
    assert [r.id for r in records] == ["a", "b"] and records[0].video == tmp_path / "v" / "a.mp4"
    assert str(records[1].video) == "/abs/b.mp4" and records[1].prompt == "b"
    export = pa.table({"clip_id": ["c1", "c2"], "export.video": ["videos/c1.mp4", "videos/c2.mp4"],
                       "prompt": ["p1", "p2"], "split": ["train", "test"]})
    pq.write_table(export, tmp_path / "clips.parquet")
    assert [(r.id, r.video.name) for r in load_records(tmp_path / "clips.parquet")] == [("c1", "c1.mp4")]
