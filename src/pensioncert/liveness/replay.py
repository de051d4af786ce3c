"""Is this upload an earlier recording of the same retiree, played again?

Timing makes an old recording miss a fresh schedule most of the time, but not always: when a
new challenge happens to ask the actions of a recording the attacker holds, in its order, the
recording fits the new windows 33-52 % of the time (docs/liveness.md, "Timed challenges"). What
such a replay cannot change is its own motion: the head's path, the eyes, the mouth and the
face's drift in the frame, frame by frame. Two genuine performances of the same actions are
never the same motion; a replay is (up to re-encoding, scaling, cropping and trimming).

So every analysed recording leaves a :class:`MotionTrace` (seven scalar signals per analysed
frame, no image), kept encrypted for ``security.motion_trace_retention_days`` (one
certification cycle and its window), and a new recording of the same retiree is compared with
each kept trace. First the best alignment over time shifts and speed changes, of the
signals' fast parts (each minus its moving average, so the slow shape of an action, which any
two performances share, counts little), Pearson-correlated per signal and averaged. Then, along
that alignment, the same correlation in short windows (1.5 s): a replay correlates in every
window, the quiet ones too (its sway, jitter and blinks are the original's), while a genuine
re-performance lined up on its actions correlates only where the actions are. The median over
the windows is the similarity the check compares with its threshold.

Pure: numbers in, numbers out. The job supplies the earlier traces and stores the new one.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pensioncert.liveness.landmarks import Signals
from pensioncert.settings import LivenessSettings

F64 = NDArray[np.float64]

CHANNELS = ("ear", "mouth", "yaw", "pitch", "iod", "centre_x", "centre_y")
ACTION_CHANNELS = [1, 2, 3]  # mouth, yaw, pitch: the signals an action moves most
TRACE_FPS = 15.0  # the analysis frame rate: traces are resampled to it on a uniform grid


@dataclass(frozen=True)
class MotionTrace:
    """Seven signals of one recording on a uniform grid at ``TRACE_FPS`` (NaN where no face)."""

    values: NDArray[np.float32]  # (T, len(CHANNELS))

    @property
    def seconds(self) -> float:
        return len(self.values) / TRACE_FPS

    def to_bytes(self) -> bytes:
        """A compact serialisation (float16 would lose the fine motion a replay shares)."""
        buffer = io.BytesIO()
        np.save(buffer, self.values.astype(np.float32), allow_pickle=False)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> MotionTrace:
        values = np.load(io.BytesIO(data), allow_pickle=False)
        if values.ndim != 2 or values.shape[1] != len(CHANNELS):
            raise ValueError(f"not a motion trace: shape {values.shape}")
        return cls(values.astype(np.float32))


def motion_trace(sig: Signals, times: F64) -> MotionTrace:
    """The recording's signals resampled to a uniform ``TRACE_FPS`` grid from its first frame."""
    raw = np.column_stack([sig.ear, sig.mouth, sig.yaw, sig.pitch, sig.iod, sig.centre[:, 0], sig.centre[:, 1]])
    times = np.asarray(times, dtype=np.float64)
    if len(times) == 0:
        return MotionTrace(np.zeros((0, len(CHANNELS)), np.float32))
    grid = times[0] + np.arange(int(np.floor((times[-1] - times[0]) * TRACE_FPS)) + 1) / TRACE_FPS
    return MotionTrace(_resample(raw, times, grid).astype(np.float32))


def _resample(raw: F64, times: F64, grid: F64) -> F64:
    """Linear interpolation per channel; grid points next to a frame without a face stay NaN."""
    out = np.full((len(grid), raw.shape[1]), np.nan)
    face = np.isfinite(raw).all(axis=1)
    if face.sum() < 2:
        return out
    inside = (grid >= times[0]) & (grid <= times[-1])
    # a grid point is valid when both frames around it have a face
    right = np.clip(np.searchsorted(times, grid, side="left"), 0, len(times) - 1)
    left = np.clip(right - 1, 0, len(times) - 1)
    on_frame = np.isclose(times[right], grid)
    valid = inside & face[right] & (face[left] | on_frame)
    for c in range(raw.shape[1]):
        out[valid, c] = np.interp(grid[valid], times[face], raw[face, c])
    return out


def fast_part(values: F64, window: int) -> F64:
    """Each channel minus its centred moving average over ``window`` samples (NaN kept as NaN)."""
    out = np.full(values.shape, np.nan)
    for c in range(values.shape[1]):
        col = values[:, c]
        ok = np.isfinite(col)
        if ok.sum() < window:
            continue
        filled = np.interp(np.arange(len(col)), np.flatnonzero(ok), col[ok])
        padded = np.pad(filled, (window // 2, window - 1 - window // 2), mode="edge")
        smooth = np.convolve(padded, np.ones(window) / window, mode="valid")
        out[ok, c] = (filled - smooth)[ok]
    return out


@dataclass(frozen=True)
class ReplayMatch:
    """The best alignment of a new trace with an earlier one and how alike they are along it.

    ``overall``: the mean per-signal correlation over the whole overlap (what chose the
    alignment); ``similarity``: the median of the same over short windows along it (what the
    check decides on), both in [-1, 1].
    """

    similarity: float
    overall: float
    lag_s: float  # new time = earlier time / speed + lag
    speed: float
    overlap_s: float

    def as_dict(self) -> dict[str, float]:
        return {"similarity": round(self.similarity, 3), "overall": round(self.overall, 3),
                "lag_s": round(self.lag_s, 2), "speed": round(self.speed, 3), "overlap_s": round(self.overlap_s, 2)}


NO_MATCH = ReplayMatch(-1.0, -1.0, 0.0, 1.0, 0.0)


def compare(new: MotionTrace, earlier: MotionTrace, *, window: int, min_overlap_seconds: float,
            min_overlap_fraction: float, speeds: Sequence[float], local_seconds: float = 1.5,
            quiet_share: float = 1.0) -> ReplayMatch:
    """The alignment (shift and speed) with the highest mean per-channel correlation of the fast
    parts, and the median correlation over ``local_seconds`` windows along it.

    A shift counts only when the two overlap for ``min_overlap_seconds`` and for
    ``min_overlap_fraction`` of the shorter trace: a replay overlaps its original almost
    entirely, while one action of a genuine recording lined up with one of an earlier
    recording is a short overlap. Channels without variance in the overlap are left out;
    fewer than four left: no match at that shift.
    """
    a = fast_part(new.values.astype(np.float64), window)
    earlier_values = earlier.values.astype(np.float64)
    best: tuple[float, int, float, NDArray[np.float64], int] | None = None  # overall, lag, speed, b, frames

    def search(candidates: Sequence[float]) -> None:
        nonlocal best
        for speed in candidates:
            b = fast_part(_at_speed(earlier_values, speed), window)
            shorter = min(len(a), len(b))
            need = max(int(np.ceil(min_overlap_seconds * TRACE_FPS)), int(np.ceil(min_overlap_fraction * shorter)))
            if shorter < need or need < 2:
                continue
            sims, counts = _lagged_correlations(a, b, need)
            if not np.isfinite(sims).any():
                continue
            k = int(np.nanargmax(sims))
            if best is None or sims[k] > best[0]:
                best = (float(sims[k]), k - (len(b) - 1), speed, b, int(counts[k]))

    search(speeds)
    if best is not None and len(speeds) > 1:
        # then finer around the best grid speed: a replay between two grid speeds drifts a frame
        # or two over ten seconds, which the fast parts' frame-to-frame detail does not forgive
        step = min(hi / lo for lo, hi in zip(sorted(speeds), sorted(speeds)[1:], strict=False))
        search([best[2] * step ** (k / 4) for k in (-3, -2, -1, 1, 2, 3)])
    if best is None:
        return NO_MATCH
    overall, lag, speed, b, frames = best
    i0, i1 = max(0, lag), min(len(a), len(b) + lag)
    local = _windowed_median(a[i0:i1], b[i0 - lag:i1 - lag], int(round(local_seconds * TRACE_FPS)), quiet_share)
    return ReplayMatch(local, overall, lag / TRACE_FPS, speed, frames / TRACE_FPS)


def _windowed_median(a: F64, b: F64, length: int, quiet_share: float = 1.0, stride: int = 4) -> float:
    """Median over windows of ``length`` aligned samples of the mean per-channel correlation
    (channels with a face in half the window and some variance; at least four of them), over the
    ``quiet_share`` of windows with the least motion of mouth, yaw and pitch in both traces.

    The quiet windows are where a replay and a re-performance differ most: an action lined up
    on last year's correlates whoever performs it, while between the actions only a copy moves
    like the original (its sway, jitter and blinks)."""
    scores, motion = [], []
    for start in range(0, len(a) - length + 1, stride):
        per_channel = []
        for c in range(a.shape[1]):
            x, y = a[start:start + length, c], b[start:start + length, c]
            both = np.isfinite(x) & np.isfinite(y)
            if both.sum() < length // 2:
                continue
            x, y = x[both] - x[both].mean(), y[both] - y[both].mean()
            norm = float(np.linalg.norm(x) * np.linalg.norm(y))
            if norm > 1e-12:
                per_channel.append(float(x @ y) / norm)
        if len(per_channel) >= 4:
            scores.append(float(np.mean(per_channel)))
            span = slice(start, start + length)
            window = np.concatenate([a[span, ACTION_CHANNELS], b[span, ACTION_CHANNELS]], axis=1)
            with warnings.catch_warnings():  # a signal with no face in this window: no motion counted
                warnings.simplefilter("ignore", RuntimeWarning)
                motion.append(float(np.nansum(np.nanstd(window, axis=0))))
    if not scores:
        return -1.0
    keep = max(1, int(np.ceil(quiet_share * len(scores))))
    quietest = np.argsort(motion, kind="stable")[:keep]
    return float(np.median(np.asarray(scores)[quietest]))


def _at_speed(values: F64, speed: float) -> F64:
    """``values`` played ``speed`` times as fast (a sped-up replay), on the same uniform grid."""
    if abs(speed - 1.0) < 1e-9 or len(values) < 2:
        return values
    n = int(np.floor((len(values) - 1) / speed)) + 1
    source = np.arange(n) * speed
    out = np.full((n, values.shape[1]), np.nan)
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, len(values) - 1)
    frac = (source - lo)[:, None]
    out[:] = values[lo] * (1 - frac) + values[hi] * frac
    return out


def _xcorr(u: F64, v: F64) -> F64:
    """Row-wise full cross-correlation (``np.correlate(u[c], v[c], "full")`` for every row c) by FFT."""
    n = u.shape[1] + v.shape[1] - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(u, size, axis=1) * np.fft.rfft(v[:, ::-1], size, axis=1), size, axis=1)
    return np.asarray(out[:, :n], dtype=np.float64)


def _lagged_correlations(a: F64, b: F64, min_overlap: int) -> tuple[F64, NDArray[np.int64]]:
    """For every lag (``a[i]`` against ``b[i - lag]``, index ``lag + len(b) - 1``): the mean over
    channels of the Pearson correlation on the frames both have, and the number of such frames."""
    ma, mb = np.isfinite(a).T, np.isfinite(b).T  # (channels, frames)
    x, y = np.where(ma, a.T, 0.0), np.where(mb, b.T, 0.0)
    wa, wb = ma.astype(float), mb.astype(float)
    n, sx, sy, sxx, syy, sxy = (np.round(_xcorr(wa, wb)), _xcorr(x, wb), _xcorr(wa, y), _xcorr(x * x, wb),
                                _xcorr(wa, y * y), _xcorr(x, y))
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sy / n
        var = (sxx - sx * sx / n) * (syy - sy * sy / n)
        r = cov / np.sqrt(var)
    ok = (n >= min_overlap) & (var > 1e-18)
    used = ok.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(used >= 4, np.where(ok, r, 0.0).sum(axis=0) / used, np.nan)
    return mean, n.max(axis=0).astype(np.int64)


def best_match(new: MotionTrace, earlier: Sequence[MotionTrace], *, window: int, min_overlap_seconds: float,
               min_overlap_fraction: float, speeds: Sequence[float], local_seconds: float = 1.5,
               quiet_share: float = 1.0) -> tuple[ReplayMatch, int | None]:
    """The closest earlier trace (its index) and how close; ``NO_MATCH, None`` when there is none."""
    best, which = NO_MATCH, None
    for i, old in enumerate(earlier):
        match = compare(new, old, window=window, min_overlap_seconds=min_overlap_seconds,
                        min_overlap_fraction=min_overlap_fraction, speeds=speeds, local_seconds=local_seconds,
                        quiet_share=quiet_share)
        if match.similarity > best.similarity:
            best, which = match, i
    return best, which


def speed_grid(low: float, high: float, step: float) -> tuple[float, ...]:
    """Speeds from ``low`` to ``high`` in geometric steps of ``step``, 1.0 (an unaltered replay) among them."""
    if not (0 < low <= 1.0 <= high) or step <= 1.0:
        raise ValueError(f"bad speed grid {low}..{high} step {step}")
    down = int(np.floor(np.log(1.0 / low) / np.log(step) + 1e-9))
    up = int(np.floor(np.log(high) / np.log(step) + 1e-9))
    return tuple(float(step ** k) for k in range(-down, up + 1))


def closest_replay(new: MotionTrace, earlier: Sequence[MotionTrace],
                   cfg: LivenessSettings) -> tuple[ReplayMatch, int | None]:
    """``best_match`` with the configured search (``liveness.replay_*``): what the check decides on."""
    return best_match(new, earlier, window=cfg.replay_fast_window_frames,
                      min_overlap_seconds=cfg.replay_min_overlap_seconds,
                      min_overlap_fraction=cfg.replay_min_overlap_fraction,
                      speeds=speed_grid(cfg.replay_min_speed, cfg.replay_max_speed, cfg.replay_speed_step),
                      local_seconds=cfg.replay_window_seconds, quiet_share=cfg.replay_quiet_share)
