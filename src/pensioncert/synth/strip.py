"""Frame strips of clips for the docs and for eyeballing a generator change."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.clip import Clip


def frame_strip(frames: NDArray[np.uint8], count: int = 6, tile_width: int = 160) -> NDArray[np.uint8]:
    """``count`` evenly spaced frames side by side, each ``tile_width`` px wide (RGB)."""
    if len(frames) == 0:
        raise ValueError("no frames")
    idx = np.linspace(0, len(frames) - 1, count).round().astype(int)
    h = round(frames.shape[1] * tile_width / frames.shape[2])
    tiles = [cv2.resize(frames[i], (tile_width, h), interpolation=cv2.INTER_AREA) for i in idx]
    return np.hstack(tiles)


def write_strips(clips: Mapping[str, Clip], out_dir: str | Path, count: int = 6) -> dict[str, Path]:
    """One labelled PNG strip per clip with frames (files-only attacks are skipped)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, clip in clips.items():
        if len(clip.frames) == 0:
            continue
        strip = frame_strip(clip.frames, count)
        cv2.rectangle(strip, (0, 0), (8 + 9 * len(name), 18), (0, 0, 0), -1)
        cv2.putText(strip, name, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
        path = out / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        paths[name] = path
    return paths
