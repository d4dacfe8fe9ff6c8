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
