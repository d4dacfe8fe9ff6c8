"""Paper defaults, shipped accelerate configs, and the `model tiny` command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.model.configs import GenerationSettings, TrainSettings, accelerate_config


def test_defaults_are_the_papers_appendix_e_and_f():
    g, t = GenerationSettings(), TrainSettings()
    assert (g.height, g.width, g.frames, g.guidance, g.steps) == (480, 832, 81, 5.0, 50)
    assert (t.learning_rate, t.batch_size, t.max_steps, t.weight_decay, t.text_dropout) == (1e-5, 8, 5000, 0.01, 0.1)
    assert t.mixed_precision == "bf16" and t.gradient_checkpointing and (t.height, t.width, t.frames) == (480, 832, 81)


@pytest.mark.parametrize("name,kind", [("single_gpu", "NO"), ("multi_gpu", "MULTI_GPU"),
                                       ("deepspeed_zero2", "DEEPSPEED"), ("fsdp", "FSDP")])
def test_shipped_accelerate_configs_load_with_accelerate(name, kind):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(accelerate_config(name)))
    assert config.distributed_type.value == kind and config.mixed_precision == "bf16"


def test_unknown_accelerate_config_names_the_shipped_ones():
    with pytest.raises(FileNotFoundError, match="fsdp"):
        accelerate_config("nope")


def test_model_tiny_command_writes_a_loadable_folder(tmp_path):
    from diffusers import WanPipeline

    result = CliRunner().invoke(app, ["model", "tiny", str(tmp_path / "tiny")])
    assert result.exit_code == 0, result.output
    pipe = WanPipeline.from_pretrained(tmp_path / "tiny")
    assert pipe.transformer.config.num_layers == 2 and pipe.vae.config.z_dim == 16


def test_real_wan21_configs_build_the_published_architecture():
    """The 1.3B transformer and the VAE built from our configs have the published weight counts
    (fp32 files of 5.68 GB and 508 MB); built on the meta device, so no memory is used."""
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel

    from microverse.model.configs import tiny

    with torch.device("meta"):
        transformer = WanTransformer3DModel(**tiny.WAN21_1_3B_TRANSFORMER)
        vae = AutoencoderKLWan(**tiny.WAN21_VAE)
    assert sum(p.numel() for p in transformer.parameters()) == 1_418_996_800
    assert sum(p.numel() for p in vae.parameters()) == 126_892_531
    assert vae.config.latents_std[0] == 2.8184 and transformer.config.text_dim == 4096
    scheduler = UniPCMultistepScheduler(**tiny.SCHEDULER)
    assert scheduler.config.flow_shift == 3.0 and scheduler.config.use_flow_sigmas
