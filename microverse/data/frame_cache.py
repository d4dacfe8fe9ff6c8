"""Decoded, preprocessed clip tensors kept across training epochs, so only the first epoch decodes.

Why: training the micro/non-micro classifier used to seek, decode, resize and normalise every
clip again on every epoch (10 epochs in the paper's recipe), while the tensors it produced were
the same each time. The cache fills once, before the first epoch (in parallel when the caller
gives loader workers), then every epoch reads tensors.

Where: in memory while the tensors fit ``memory_bytes``; the rest as ``.npy`` files under
``folder``, named by a hash of the clip's resolved path, file size, mtime, frame range and the
preprocessing recipe. So a changed file or another model input size never reuses a stale
tensor, and a rerun on the same clips (another learning rate, more epochs, or after a kill)
decodes only what is not on disk yet. Files are written to a temporary name and renamed, so a
kill never leaves half a tensor under a real name, and the next fill deletes the temporary it
left. The tensors are exactly the decoder's (float32 kept as is), so
training with the cache gives the same weights as without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np


class FrameCache:
    """``cache[i]`` is ``decode(items[i])``, computed once by :meth:`fill`."""

    def __init__(self, items: list[dict], decode: Callable[[dict], object], *, recipe: str, folder: Path,
                 memory_bytes: int) -> None:
        self.items = items
        self.decode = decode
        self.recipe = recipe
        self.folder = Path(folder)
        self.memory_bytes = memory_bytes
        self.memory: dict[int, object] = {}
        self.files: dict[int, Path] = {}
        self.decoded = 0  # clips decoded by fill (the rest were already on disk)

    def key(self, item: dict) -> str:
        path = Path(item["path"]).resolve()
        stat = path.stat()
        facts = [str(path), stat.st_size, stat.st_mtime_ns, item.get("start_frame"), item.get("end_frame"),
                 self.recipe]
        return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:32]

    @property
    def memory_used(self) -> int:
        return sum(t.element_size() * t.nelement() for t in self.memory.values())

    def fill(self, indices: list[int], *, workers: int = 0,
             progress: Callable[[int, int], None] | None = None) -> list[tuple[int, str]]:
        """Decode every item in ``indices`` not cached yet (``workers`` processes decode in parallel).

        Returns the items that could not be decoded, as (index, "ErrorType: message"): every
        bad file is found in one pass, instead of stopping at the first.
        """
        import torch

        self._remove_stale_partials()
        todo, keys = [], {}
        for i in indices:
            try:  # keyed before decoding: a file that changes meanwhile is decoded again next time
                keys[i] = self.key(self.items[i])
            except OSError:  # gone since it was listed: decoding it below reports it with the others
                todo.append(i)
                continue
            path = self.folder / f"{keys[i]}.npy"
            if path.is_file():
                self.files[i] = path
            else:
                todo.append(i)
        done = len(indices) - len(todo)
        if progress:
            progress(done, len(indices))
        if not todo:
            return []
        items, decode = self.items, self.decode

        class Missing(torch.utils.data.Dataset):
            def __len__(self) -> int:
                return len(todo)

            def __getitem__(self, k: int):
                try:
                    return todo[k], decode(items[todo[k]]), ""
                except Exception as exc:  # reported with the others after the pass
                    return todo[k], None, f"{exc.__class__.__name__}: {str(exc).strip() or 'no message'}"

        # batch_size=None: one clip at a time, uncollated; its own generator so the global RNG
        # (dropout during training) is left exactly as it would be without the cache.
        loader = torch.utils.data.DataLoader(Missing(), batch_size=None, num_workers=workers,
                                             generator=torch.Generator().manual_seed(0))
        used = self.memory_used
        failed = []
        for i, tensor, error in loader:
            done += 1
            if progress:
                progress(done, len(indices))
            if error:
                failed.append((i, error))
                continue
            tensor = tensor.clone() if workers else tensor  # out of the worker's shared memory
            size = tensor.element_size() * tensor.nelement()
            if used + size <= self.memory_bytes:
                self.memory[i] = tensor
                used += size
            else:
                self.files[i] = self._write(keys.get(i) or self.key(self.items[i]), tensor)
            self.decoded += 1
        return failed

    def _remove_stale_partials(self) -> None:
        """A kill mid-write leaves ``<key>.<pid>.partial`` (~10 MB a clip); remove those whose writer is gone."""
        for partial in self.folder.glob("*.partial"):
            pid = partial.suffixes[-2][1:] if len(partial.suffixes) >= 2 else ""
            if pid.isdigit() and not _process_alive(int(pid)):
                partial.unlink(missing_ok=True)

    def _write(self, key: str, tensor) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{key}.npy"
        partial = path.with_name(f"{path.stem}.{os.getpid()}.partial")
        with open(partial, "wb") as fh:
            np.save(fh, tensor.numpy())
        os.replace(partial, path)
        return path

    def __getitem__(self, i: int):
        if i in self.memory:
            return self.memory[i]
        import torch

        return torch.from_numpy(np.load(self.files[i]))


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
