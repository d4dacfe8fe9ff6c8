"""The paper's published numbers (Tables 1 and 2), shown as labelled reference rows.

They were produced with GPT-5 as the judge and the official scoring script; our
``official`` policy is the one to compare them with.
"""

from __future__ import annotations

from microverse.bench.models import Dimension, Level

# model: (average, organ, cellular, subcellular)
TABLE_1: dict[str, tuple[float, float, float, float]] = {
    "HunyuanVideo": (23.2, 23.1, 23.8, 19.4),
    "CogVideoX-5B": (43.5, 39.9, 47.0, 38.6),
    "Wan2.1-T2V-1.3B": (49.4, 45.9, 51.7, 52.4),
    "Wan2.2-TI2V-5B": (51.6, 46.6, 53.9, 49.5),
    "Wan2.1-T2V-14B": (54.8, 55.7, 54.4, 52.8),
    "Wan2.2-T2V-A14B": (53.8, 56.3, 52.0, 53.3),
    "MicroVerse-1.3B": (50.2, 47.6, 51.7, 53.3),
    "Sora": (50.7, 55.9, 46.1, 55.0),
    "Veo3": (77.2, 77.5, 76.9, 78.2),
}
# model: (average, scientific, visual, instruction)
TABLE_2: dict[str, tuple[float, float, float, float]] = {
    "HunyuanVideo": (23.2, 15.6, 48.2, 23.4),
    "CogVideoX-5B": (43.5, 37.4, 64.1, 38.6),
    "Wan2.1-T2V-1.3B": (49.4, 40.3, 71.8, 50.1),
    "Wan2.2-TI2V-5B": (51.6, 40.7, 82.7, 47.0),
    "Wan2.1-T2V-14B": (54.8, 42.7, 86.0, 53.8),
    "Wan2.2-T2V-A14B": (53.8, 37.8, 92.8, 55.4),
    "MicroVerse-1.3B": (50.2, 43.0, 68.5, 49.3),
    "Sora": (50.7, 35.3, 96.4, 37.9),
    "Veo3": (77.2, 65.7, 97.0, 77.0),
}


def reference_rows() -> dict[str, dict[str, float]]:
    """Model -> {"average", level names, dimension names} as published."""
    rows = {}
    for model, (average, organ, cellular, subcellular) in TABLE_1.items():
        _, scientific, visual, instruction = TABLE_2[model]
        rows[model] = {"average": average, Level.ORGAN.value: organ, Level.CELLULAR.value: cellular,
                       Level.SUBCELLULAR.value: subcellular, Dimension.SCIENTIFIC.value: scientific,
                       Dimension.VISUAL.value: visual, Dimension.INSTRUCTION.value: instruction}
    return rows
