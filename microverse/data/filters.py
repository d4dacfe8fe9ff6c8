"""Automatic clip filters: size and length bounds, black borders, burned-in text, no motion.

All measurements come from a handful of frames per clip, sampled with seeking (never a full
decode): ``samples`` evenly spaced positions, each with its successor for optical flow.

* bounds: short side >= ``min_side`` (paper: 720p), ``min_duration`` <= length <= ``max_duration``
  (paper: 5-60 s); checked first, from the manifest alone, so out-of-bounds clips cost nothing.
* borders (OpenCV-free numpy): per side, the run of rows/columns that are dark in *every*
  sampled frame (a dark scene is not a border). ``drop`` drops clips with a border wider than
  ``border_max`` of the side, ``crop`` keeps them with the crop box the export applies.
* text (RapidOCR, ONNX, offline): the fraction of OCR frames with confident text; burned-in
  subtitles sit on most frames, so clips at or above ``text_frames`` are dropped.
* motion (OpenCV Farneback): median optical-flow magnitude in pixels per frame at
  ``flow_width`` pixels wide; below ``min_motion`` the clip is a still or a slideshow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from microverse.data.video import even_indices, sample_frames

BORDER_MODES = ("drop", "crop", "off")


def filter_config(*, min_side: int = 720, min_duration: float = 5.0, max_duration: float = 60.0,
                  borders: str = "drop", border_max: float = 0.02, border_luma: int = 24,
                  text: bool = True, text_score: float = 0.6, text_frames: float = 0.34, ocr_frames: int = 3,
                  ocr_width: int = 640, motion: bool = True, min_motion: float = 0.05, flow_width: int = 160,
                  samples: int = 5) -> dict:
    if borders not in BORDER_MODES:
        raise ValueError(f"unknown border mode {borders!r}")
    return dict(min_side=min_side, min_duration=min_duration, max_duration=max_duration, borders=borders,
                border_max=border_max, border_luma=border_luma, text=text, text_score=text_score,
                text_frames=text_frames, ocr_frames=ocr_frames, ocr_width=ocr_width, motion=motion,
                min_motion=min_motion, flow_width=flow_width, samples=samples)


def measure_borders(frames: list[np.ndarray], luma: int, dark_fraction: float = 0.02,
                    edge_fraction: float = 0.3) -> dict[str, int] | None:
    """Dark rows/columns at each edge in all frames; None when the frames are dark all over.

    A bar ends in a hard edge: the first lit row (or column) is lit across much of the frame
    (``edge_fraction``, in at least one sampled frame). A dark background around a centred subject,
    common in micro-scale animations, ends in a sparse row instead and is not called a border.
    """
    bright_rows = bright_cols = None
    for frame in frames:
        gray = frame.mean(axis=2) if frame.ndim == 3 else frame
        bright = gray > luma
        rows, cols = bright.mean(axis=1), bright.mean(axis=0)
        bright_rows = rows if bright_rows is None else np.maximum(bright_rows, rows)
        bright_cols = cols if bright_cols is None else np.maximum(bright_cols, cols)
    assert bright_rows is not None and bright_cols is not None
    lit_rows = np.flatnonzero(bright_rows > dark_fraction)
    lit_cols = np.flatnonzero(bright_cols > dark_fraction)
    if lit_rows.size == 0 or lit_cols.size == 0:
        return None

    def bar(profile: np.ndarray, first_lit: int) -> int:
        """The dark run before ``first_lit`` (profile read from the edge inward), if it ends in a hard edge."""
        return first_lit if first_lit and profile[first_lit:first_lit + 2].max() >= edge_fraction else 0

    height, width = bright_rows.size, bright_cols.size
    return {"top": bar(bright_rows, int(lit_rows[0])),
            "bottom": bar(bright_rows[::-1], height - 1 - int(lit_rows[-1])),
            "left": bar(bright_cols, int(lit_cols[0])),
            "right": bar(bright_cols[::-1], width - 1 - int(lit_cols[-1]))}


def crop_box(border: dict[str, int], width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) inside the borders, with even sizes (H.264 needs them)."""
    x, y = border["left"], border["top"]
    w = (width - border["left"] - border["right"]) // 2 * 2
    h = (height - border["top"] - border["bottom"]) // 2 * 2
    return x, y, w, h


def motion_magnitude(pairs: list[tuple[np.ndarray, np.ndarray]], width: int) -> float:
    """Median over pairs of the mean Farneback flow magnitude (pixels/frame at ``width``)."""
    import cv2

    values = []
    for a, b in pairs:
        h = max(8, int(round(a.shape[0] * width / a.shape[1])))
        ga = cv2.cvtColor(cv2.resize(a, (width, h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        gb = cv2.cvtColor(cv2.resize(b, (width, h), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        flow = cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        values.append(float(np.linalg.norm(flow, axis=2).mean()))
    return float(np.median(values)) if values else 0.0


class FilterWorker:
    """Engine worker: one clip row in, ``filter.*`` scores and the decision out."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self._ocr = None

    def ocr(self):
        if self._ocr is None:
            from rapidocr_onnxruntime import RapidOCR

            # Detection at most ocr_width on the long side (the default *upscales* the short side
            # to 736, 20x slower on small frames); one thread: parallelism comes from workers.
            self._ocr = RapidOCR(det_limit_side_len=self.config["ocr_width"], det_limit_type="max", use_cls=False,
                                 intra_op_num_threads=1, inter_op_num_threads=1)
        return self._ocr

    def _text(self, frames: list[np.ndarray]) -> tuple[float, str]:
        import cv2

        cfg = self.config
        hits, texts = 0, []
        for frame in frames:
            if frame.shape[1] > cfg["ocr_width"]:
                h = int(round(frame.shape[0] * cfg["ocr_width"] / frame.shape[1]))
                frame = cv2.resize(frame, (cfg["ocr_width"], h), interpolation=cv2.INTER_AREA)
            result, _ = self.ocr()(np.ascontiguousarray(frame[:, :, ::-1]), use_cls=False)
            found = [t for _, t, s in (result or []) if float(s) >= cfg["text_score"] and len(t.strip()) >= 2]
            if found:
                hits += 1
                texts.extend(found)
        return hits / max(1, len(frames)), " | ".join(dict.fromkeys(texts))[:300]

    def __call__(self, clip: dict) -> dict:
        cfg = self.config
        row: dict = {}
        side = min(int(clip["width"]), int(clip["height"]))
        duration = float(clip["duration"])
        if side < cfg["min_side"]:
            return {**row, "filter.keep": False, "filter.reason": f"resolution too low ({clip['width']}x{clip['height']} "
                    f"< {cfg['min_side']}p)"}
        if duration < cfg["min_duration"]:
            return {**row, "filter.keep": False,
                    "filter.reason": f"too short ({duration:.2f} s < {cfg['min_duration']:g} s)"}
        if duration > cfg["max_duration"]:
            return {**row, "filter.keep": False,
                    "filter.reason": f"too long ({duration:.2f} s > {cfg['max_duration']:g} s)"}
        start, end = int(clip["start_frame"]), int(clip["end_frame"])
        positions = even_indices(start, max(start + 1, end - 1), cfg["samples"])
        frames = sample_frames(Path(clip["path"]), positions, pairs=True)
        firsts = frames[0::2]
        reasons = []

        border = measure_borders(firsts, cfg["border_luma"])
        if border is not None:
            row.update({f"filter.border_{k}": v for k, v in border.items()})
            worst = max(border["top"] / clip["height"], border["bottom"] / clip["height"],
                        border["left"] / clip["width"], border["right"] / clip["width"])
            row["filter.border_fraction"] = round(worst, 4)
            if worst > cfg["border_max"]:
                if cfg["borders"] == "drop":
                    reasons.append("black borders (" + ", ".join(f"{k} {v}px" for k, v in border.items() if v) + ")")
                elif cfg["borders"] == "crop":
                    x, y, w, h = crop_box(border, int(clip["width"]), int(clip["height"]))
                    row.update({"filter.crop_x": x, "filter.crop_y": y, "filter.crop_w": w, "filter.crop_h": h})
                    if min(w, h) < cfg["min_side"]:
                        reasons.append(f"black borders ({w}x{h} after cropping is below {cfg['min_side']}p)")
        if cfg["text"]:
            pick = [firsts[i] for i in even_indices(0, len(firsts), cfg["ocr_frames"])]
            fraction, text = self._text(pick)
            row["filter.text_frames"] = round(fraction, 4)
            row["filter.text"] = text or None
            if fraction >= cfg["text_frames"] and text:
                reasons.append(f"burned-in text (on {fraction:.0%} of frames: {text[:60]!r})")
        if cfg["motion"]:
            motion = motion_magnitude(list(zip(frames[0::2], frames[1::2])), cfg["flow_width"])
            row["filter.motion"] = round(motion, 5)
            if motion < cfg["min_motion"]:
                reasons.append(f"static or slideshow (motion {motion:.3f} px/frame < {cfg['min_motion']:g})")
        row["filter.keep"] = not reasons
        row["filter.reason"] = "; ".join(reasons) or None
        return row
