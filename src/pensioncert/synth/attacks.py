"""Presentation attacks made from the same photo, each with its ground truth.

Frame attacks return full clips; ``truncated`` and ``corrupt`` are broken files (their Clip
has no frames, only ``paths``). Attack names follow ISO/IEC 30107-3 reporting: APCER is
counted per name.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.audio import SAMPLE_RATE, speak_digits
from pensioncert.synth.camera import PhoneCamera, background
from pensioncert.synth.clip import FORMATS, Clip, GroundTruth
from pensioncert.synth.head import (
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
    build_head,
    detect_landmarks,
    eye_ratio,
    mouth_ratio,
    rotation,
)
from pensioncert.synth.photos import PhotoLike, load_photo, other_photo_for
from pensioncert.synth.render import Drawn, Pose
from pensioncert.synth.script import controls, parse_script
from pensioncert.synth.subject import (
    FPS,
    HEIGHT,
    SPEECH_START,
    WIDTH,
    Actor,
    Seen,
    default_duration,
    film,
    paint_actors,
    poses,
    render_subject,
    truth_from,
)

ATTACKS = (
    "still_photo",
    "moved_photo",
    "screen_replay",
    "wrong_digits",
    "silent",
    "two_faces",
    "face_swap",
    "looping",
    "frozen",
)
FILE_ATTACKS = ("truncated", "corrupt")
GENUINE_SCRIPT = "blink@0.4"


def _other_digits(digits: str, rng: np.random.Generator) -> str:
    while True:
        other = "".join(str(d) for d in rng.integers(0, 10, len(digits)))
        if other != digits:
            return other


def _drawn_from_points(points: NDArray[np.float64]) -> Drawn:
    x, y = points[:, 0], points[:, 1]
    er = 0.5 * (eye_ratio(points, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER) + eye_ratio(points, LEFT_EYE_UPPER, LEFT_EYE_LOWER))
    return Drawn(landmarks=points, box=(float(x.min()), float(y.min()), float(x.max()), float(y.max())),
                 eye_ratio=er, mouth_ratio=mouth_ratio(points))


def _planar_print(
    photo: NDArray[np.uint8], n: int, seed: int, moving: bool
) -> tuple[NDArray[np.uint8], list[list[Seen]]]:
    """A paper print of the photo held in front of the camera: a planar homography per frame."""
    rng = np.random.default_rng([seed, 31 if moving else 30])
    faces = detect_landmarks(photo)
    if not faces:
        raise ValueError("no face found in the photo")
    lm = faces[0][:, :2]
    border = int(0.05 * max(photo.shape[:2]))
    paper = cv2.copyMakeBorder(photo, border, border, border, border, cv2.BORDER_CONSTANT, value=(245, 245, 240))
    paper = paper.astype(np.float32) * 0.92 + 12  # matte print: lower contrast
    lm = lm + border
    fw = float(np.ptp(lm[:, 0]))
    scale = 200.0 / fw
    centre = lm.mean(axis=0)
    ph, pw = paper.shape[:2]
    corners = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float64)
    t = np.arange(n) / FPS
    ph_ = rng.uniform(0, 6.3, 6)
    if moving:
        yaw = 28 * np.sin(2 * np.pi * 0.35 * t + ph_[0])
        pitch = 14 * np.sin(2 * np.pi * 0.27 * t + ph_[1])
        roll = 12 * np.sin(2 * np.pi * 0.21 * t + ph_[2])
        dx = 50 * np.sin(2 * np.pi * 0.18 * t + ph_[3])
        dy = 25 * np.sin(2 * np.pi * 0.23 * t + ph_[4])
    else:
        yaw = np.full(n, rng.uniform(-4, 4))
        pitch = np.full(n, rng.uniform(-4, 4))
        roll = np.full(n, rng.uniform(-3, 3))
        dx = dy = np.zeros(n)
    dist = 5 * 200.0
    mask_src = np.ones(paper.shape[:2], np.float32)

    def place(points: NDArray[np.float64], k: int) -> NDArray[np.float64]:
        p3 = np.column_stack([(points - centre) * scale, np.zeros(len(points))]) @ rotation(
            float(yaw[k]), float(pitch[k]), float(roll[k])).T
        persp = dist / (dist + p3[:, 2])
        return np.column_stack([WIDTH / 2 + dx[k] + p3[:, 0] * persp, 250 + dy[k] + p3[:, 1] * persp])

    def paint(canvas: NDArray[np.float32], k: int) -> list[Seen]:
        dst = place(corners, k)
        h = cv2.getPerspectiveTransform(corners.astype(np.float32), dst.astype(np.float32))
        warped = cv2.warpPerspective(paper, h, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(mask_src, h, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)[:, :, None]
        canvas *= 1 - alpha
        canvas += alpha * warped
        pose = Pose(yaw=float(yaw[k]), pitch=float(pitch[k]), roll=float(roll[k]))
        return [Seen("subject", pose, _drawn_from_points(place(lm, k)))]

    cam = PhoneCamera(rng, n, HEIGHT, WIDTH, shake_px=2.5 if moving else 1.0)
    return film(paint, n, rng, camera=cam)


def _screen(
    frames: NDArray[np.uint8], marks: NDArray[np.float64] | None, seed: int
) -> tuple[NDArray[np.uint8], list[NDArray[np.float64]]]:
    """Film a genuine clip played on a phone screen: bezel, pixel grid (moiré), glare, gamma."""
    rng = np.random.default_rng([seed, 41])
    n = len(frames)
    bg = background(rng, HEIGHT, WIDTH)
    cam = PhoneCamera(rng, n, HEIGHT, WIDTH)
    sw, sh = 400, 300  # the screen's own pixel grid (a small phone seen at arm's length)
    grid = np.ones((sh * 3, sw * 3, 3), np.float32)
    grid[::3, :, :] = 0.55
    grid[:, ::3, :] = 0.55
    for c in range(3):  # RGB sub-pixel stripes
        grid[:, c::3, c] *= 1.25
    tilt = rng.uniform(-8, 8, 3)
    w, h = 3 * sw, 3 * sh
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    out = np.empty_like(frames)
    pts: list[NDArray[np.float64]] = []
    dist = 5 * 560.0
    for k in range(n):
        img = cv2.resize(frames[k], (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
        img = 255.0 * (img / 255.0) ** 0.85 * 0.85 + 20  # screen gamma, raised blacks
        img = cv2.resize(img, (w, h), interpolation=cv2.INTER_NEAREST) * grid
        wob = np.sin(2 * np.pi * 0.3 * k / FPS)
        r = rotation(float(tilt[0] + 3 * wob), float(tilt[1]), float(tilt[2]))
        p3 = np.column_stack([(corners - [w / 2, h / 2]) * (560.0 / w), np.zeros(4)]) @ r.T
        persp = dist / (dist + p3[:, 2])
        dst = np.column_stack([WIDTH / 2 + p3[:, 0] * persp, HEIGHT / 2 + p3[:, 1] * persp]).astype(np.float32)
        hm = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
        canvas = bg.copy()
        bezel = (dst - dst.mean(axis=0)) * 1.06 + dst.mean(axis=0)
        cv2.fillConvexPoly(canvas, np.round(bezel * 16).astype(np.int32), (18, 18, 22), cv2.LINE_AA, 4)
        warped = cv2.warpPerspective(img, hm, (WIDTH, HEIGHT), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpPerspective(np.ones((h, w), np.float32), hm, (WIDTH, HEIGHT))[:, :, None]
        shown = canvas * (1 - alpha) + warped * alpha
        gx, gy = WIDTH * (0.3 + 0.1 * wob), HEIGHT * 0.3
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
        glare = 90.0 * np.exp(-(((xx - gx) / 140) ** 2 + ((yy - gy) / 90) ** 2))
        shown = shown + alpha * glare[:, :, None]
        out[k] = cam.capture(shown.astype(np.float32), k)
        if marks is not None:
            src = marks[k] * [sw * 3 / WIDTH, sh * 3 / HEIGHT]
            mapped = cv2.perspectiveTransform(src[None].astype(np.float64), hm)[0]
            m = cam.affine(k)
            pts.append(mapped @ m[:, :2].T + m[:, 2])
    return out, pts


def _derive(base: Clip, kind: str, notes: str) -> GroundTruth:
    truth = copy.deepcopy(base.truth)
    truth.kind, truth.is_attack, truth.notes = kind, True, notes
    return truth


def _pick(truth: GroundTruth, index: list[int], kind: str, notes: str) -> GroundTruth:
    """Truth of a clip whose frame k shows source frame ``index[k]``."""
    out = copy.deepcopy(truth)
    out.kind, out.is_attack, out.notes = kind, True, notes
    for key in ("yaw", "pitch", "roll", "eye_closure", "mouth_open", "eye_ratio", "mouth_ratio", "faces",
                "face_box", "identity", "source_frame"):
        column = getattr(truth, key)
        setattr(out, key, [column[i] for i in index])
    return out


def _broken_files(base: Clip, out: Path, seed: int) -> dict[str, Clip]:
    """Truncated and corrupt copies of the genuine WebM and MP4 uploads."""
    rng = np.random.default_rng([seed, 51])
    trunc: dict[str, Path] = {}
    corrupt: dict[str, Path] = {}
    for fmt in ("webm", "mp4"):
        src = base.paths.get(fmt)
        if src is None:
            src = base.write(out / "_base", "genuine", (fmt,))[fmt]
        data = src.read_bytes()
        trunc[fmt] = out / f"truncated.{fmt}"
        trunc[fmt].write_bytes(data[: int(len(data) * 0.45)])
        broken = bytearray(data)
        a, b = int(len(data) * 0.3), int(len(data) * 0.7)
        broken[a:b] = rng.integers(0, 256, b - a, dtype=np.uint8).tobytes()
        broken[8:40] = rng.integers(0, 256, 32, dtype=np.uint8).tobytes()  # and a damaged header
        corrupt[fmt] = out / f"corrupt.{fmt}"
        corrupt[fmt].write_bytes(bytes(broken))
    empty = np.zeros((0, HEIGHT, WIDTH, 3), np.uint8)
    result = {}
    for name, paths, note in (("truncated", trunc, "file cut at 45% of its bytes"),
                              ("corrupt", corrupt, "header and middle 40% overwritten with random bytes")):
        truth = _derive(base, name, note)
        truth.n_frames = 0
        for key in ("t", "yaw", "pitch", "roll", "eye_closure", "mouth_open", "eye_ratio", "mouth_ratio", "faces",
                    "face_box", "identity", "source_frame"):
            setattr(truth, key, [])
        result[name] = Clip(frames=empty, fps=FPS, audio=None, sample_rate=SAMPLE_RATE, truth=truth, paths=dict(paths))
    return result


def render_attacks(
    photo: PhotoLike,
    *,
    seed: int = 0,
    out_dir: str | Path | None = None,
    other_photo: PhotoLike | None = None,
    digits: str | None = None,
    language: str = "en",
    duration: float | None = None,
    formats: Sequence[str] = FORMATS,
    only: Sequence[str] | None = None,
    progress: bool = False,
) -> dict[str, Clip]:
    """Render the attack variants of the person in ``photo`` (plus ``genuine``, the clip they derive from).

    ``other_photo`` is the second person for ``two_faces`` and ``face_swap`` (default: another
    sample photo). ``digits`` is the challenge (default: four digits from ``seed``). ``only``
    limits the set. Broken files go to ``out_dir`` (a temporary folder when None).
    """
    wanted = list(only) if only is not None else [*ATTACKS, *FILE_ATTACKS]
    unknown = set(wanted) - set(ATTACKS) - set(FILE_ATTACKS)
    if unknown:
        raise ValueError(f"unknown attacks {sorted(unknown)}; known: {ATTACKS + FILE_ATTACKS}")
    rng = np.random.default_rng([seed, 61])
    challenge = digits or "".join(str(d) for d in rng.integers(0, 10, 4))
    img = load_photo(photo)
    other = other_photo_for(img) if other_photo is None else load_photo(other_photo)
    if duration is None:
        duration = default_duration(0.0, challenge)
    n = max(2, int(round(duration * FPS)))
    out = Path(out_dir) if out_dir is not None else None
    fmts = tuple(formats)
    common = {"language": language, "duration": duration, "formats": fmts, "progress": progress}

    base = render_subject(img, script=GENUINE_SCRIPT, digits=challenge, seed=seed, name="genuine",
                          out_dir=out, **common)  # type: ignore[arg-type]
    clips: dict[str, Clip] = {"genuine": base}

    def finish(name: str, clip: Clip) -> None:
        if out is not None:
            clip.write(out, name, fmts)
        clips[name] = clip

    silence = base.audio
    if "still_photo" in wanted or "moved_photo" in wanted:
        from pensioncert.synth.audio import noise_floor

        silence = noise_floor(len(base.audio) if base.audio is not None else 0, np.random.default_rng([seed, 71]))
    for name, moving in (("still_photo", False), ("moved_photo", True)):
        if name in wanted:
            frames, seen = _planar_print(img, n, seed, moving)
            truth, marks = truth_from(name, seed, seen, FPS, language, challenge, None, [], [])
            truth.notes = "flat print " + ("moved, rotated and tilted by hand" if moving else "held still")
            truth.eye_closure = [0.0] * n
            truth.mouth_open = [0.0] * n
            finish(name, Clip(frames, FPS, silence, SAMPLE_RATE, truth, landmarks=marks))
    if "screen_replay" in wanted:
        frames, pts = _screen(base.frames, base.landmarks, seed)
        truth = _derive(base, "screen_replay", "genuine clip replayed on a phone screen and re-filmed")
        for k, p in enumerate(pts):
            truth.face_box[k] = [float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max())]
        from scipy import signal

        b, a = signal.butter(2, [300 / (SAMPLE_RATE / 2), 5000 / (SAMPLE_RATE / 2)], "band")
        audio = None if base.audio is None else (signal.lfilter(b, a, base.audio) * 1.3).astype(np.float32)
        finish("screen_replay", Clip(frames, FPS, audio, SAMPLE_RATE, truth,
                                     landmarks=np.stack(pts) if pts else None))
    if "wrong_digits" in wanted:
        wrong = _other_digits(challenge, np.random.default_rng([seed, 81]))
        clip = render_subject(img, script=GENUINE_SCRIPT, digits=challenge, spoken_digits=wrong, seed=seed + 1,
                              name="wrong_digits", **common)  # type: ignore[arg-type]
        clip.truth.kind, clip.truth.is_attack = "wrong_digits", True
        clip.truth.notes = f"challenge {challenge}, spoken {wrong}"
        finish("wrong_digits", clip)
    if "silent" in wanted:
        clip = render_subject(img, script=GENUINE_SCRIPT, digits=challenge, voiced=False, seed=seed + 2,
                              name="silent", **common)  # type: ignore[arg-type]
        clip.truth.kind, clip.truth.is_attack = "silent", True
        clip.truth.notes = "lips move for the digits but nothing is heard (noise floor only)"
        finish("silent", clip)
    if "two_faces" in wanted or "face_swap" in wanted:
        head_a, head_b = build_head(img), build_head(other)
        events = parse_script(GENUINE_SCRIPT)
        speech = speak_digits(challenge, n, FPS, language, np.random.default_rng([seed, 11]), SPEECH_START)
        ctrl = controls(events, n, FPS, seed)
        mouth = np.maximum(ctrl.mouth, speech.envelope)
        if "two_faces" in wanted:
            plan_a = poses(ctrl, mouth, x=WIDTH * 0.33, y=235, scale=0.62)
            ctrl_b = controls([], n, FPS, seed + 5)
            plan_b = poses(ctrl_b, np.zeros(n), x=WIDTH * 0.70, y=255, scale=0.58)
            frames, seen = film(paint_actors(lambda k: [Actor(head_a, plan_a[k], "subject"),
                                                        Actor(head_b, plan_b[k], "other")]),
                                n, np.random.default_rng([seed, 91]))
            truth, marks = truth_from("two_faces", seed, seen, FPS, language, challenge, challenge,
                                      speech.times, events)
            truth.notes = "the subject speaks while a second person stands beside them"
            finish("two_faces", Clip(frames, FPS, speech.audio, SAMPLE_RATE, truth, landmarks=marks))
        if "face_swap" in wanted:
            plan = poses(ctrl, mouth)
            half = n // 2
            frames, seen = film(paint_actors(lambda k: [Actor(head_a if k < half else head_b, plan[k],
                                                              "subject" if k < half else "other")]),
                                n, np.random.default_rng([seed, 92]))
            truth, marks = truth_from("face_swap", seed, seen, FPS, language, challenge, challenge,
                                      speech.times, events)
            truth.notes = f"the face switches to another person's at frame {half}"
            finish("face_swap", Clip(frames, FPS, speech.audio, SAMPLE_RATE, truth, landmarks=marks))
    if "looping" in wanted:
        seg = max(2, min(n // 2, int(FPS * 1.0)))
        index = [k % seg for k in range(n)]
        truth = _pick(base.truth, index, "looping", f"the first {seg} frames repeat")
        audio = None
        if base.audio is not None:
            block = base.audio[: int(seg / FPS * SAMPLE_RATE)]
            audio = np.resize(block, len(base.audio)).astype(np.float32)
        truth.spoken_digits, truth.digit_times = None, []
        marks = None if base.landmarks is None else base.landmarks[index]
        finish("looping", Clip(base.frames[index], FPS, audio, SAMPLE_RATE, truth, landmarks=marks))
    if "frozen" in wanted:
        k0, k1 = n // 3, max(n // 3 + 2, (2 * n) // 3)
        index = [k if not k0 <= k < k1 else k0 for k in range(n)]
        truth = _pick(base.truth, index, "frozen", f"frames {k0}..{k1 - 1} repeat frame {k0} exactly")
        marks = None if base.landmarks is None else base.landmarks[index]
        finish("frozen", Clip(base.frames[index], FPS, base.audio, SAMPLE_RATE, truth, landmarks=marks))
    if any(w in wanted for w in FILE_ATTACKS):
        target = out if out is not None else Path(tempfile.mkdtemp(prefix="pensioncert-synth-"))
        broken = _broken_files(base, target, seed)
        clips.update({k: v for k, v in broken.items() if k in wanted})
    return clips


# ----------------------------------------------------------------------------------------------
# Attacks on the challenge and on the identity (issue #12; ``pensioncert eval attacks``).
#
# These take clips already rendered (the victim and the attacker following some schedule) and
# cut, splice or truncate them the way an attacker with an editor would. The clips that follow
# a schedule come from the genuine renderer (``synth.subject``); the evaluation renders them
# after the API revealed the schedule, as a real attacker would have to.

# Every challenge action, one after the other (about 1.1 s each): a recording that "does
# everything" and is replayed to any actions challenge (issue #12, attack 4).
EVERY_ACTION = ("blink", "open_mouth", "turn_left", "turn_right", "nod")


def every_action_script(duration: float, *, first: float = 0.5, step: float = 1.15) -> str:
    """A script that cycles through all five challenge actions until ``duration``."""
    parts: list[str] = []
    t, k = first, 0
    while t + 0.9 <= duration:
        action = EVERY_ACTION[k % len(EVERY_ACTION)]
        length = 0.4 if action == "blink" else 0.9
        parts.append(f"{action}@{t:.2f}-{t + length:.2f}")
        t += step
        k += 1
    return ",".join(parts)


def keep_frames(clip: Clip, indices: Sequence[int], kind: str, notes: str = "") -> Clip:
    """The clip reduced to the frames ``indices`` (in that order); audio cut to the same length."""
    index = [int(i) for i in indices]
    truth = _pick(clip.truth, index, kind, notes)
    truth.n_frames = len(index)
    truth.t = [k / clip.fps for k in range(len(index))]
    audio = None
    if clip.audio is not None:
        audio = clip.audio[: int(round(len(index) / clip.fps * clip.sample_rate))].copy()
    marks = None if clip.landmarks is None else clip.landmarks[index]
    return Clip(clip.frames[index].copy(), clip.fps, audio, clip.sample_rate, truth, landmarks=marks)


def few_frames(clip: Clip, count: int, *, start: int | None = None) -> Clip:
    """``count`` consecutive frames of ``clip`` (from the middle by default): a sub-second upload."""
    n = len(clip.frames)
    first = max(0, (n - count) // 2) if start is None else start
    return keep_frames(clip, range(first, min(n, first + count)), f"frames_{count}",
                       f"{count} frame(s) of a clip, {count / clip.fps:.2f} s")


def splice(victim: Clip, attacker: Clip, victim_frames: Sequence[int] | NDArray[np.bool_], kind: str = "splice",
           notes: str = "") -> Clip:
    """Frames of ``victim`` where chosen, the attacker's everywhere else (same length, attacker's audio).

    Both clips should follow the same schedule (same script) so that head poses line up at
    the joins: what remains different is only who it is.
    """
    n = min(len(victim.frames), len(attacker.frames))
    take = np.zeros(n, bool)
    if isinstance(victim_frames, np.ndarray) and victim_frames.dtype == bool:
        take[: len(victim_frames)] = victim_frames[:n]
    else:
        take[[int(i) for i in victim_frames if 0 <= int(i) < n]] = True
    frames = np.where(take[:, None, None, None], victim.frames[:n], attacker.frames[:n])
    truth = copy.deepcopy(attacker.truth)
    truth.kind, truth.is_attack = kind, True
    truth.notes = notes or f"victim in {int(take.sum())} of {n} frames, attacker elsewhere"
    truth.identity = ["victim" if take[k] else "attacker" for k in range(n)]
    marks = None
    if victim.landmarks is not None and attacker.landmarks is not None:
        marks = np.where(take[:, None, None], victim.landmarks[:n], attacker.landmarks[:n])
    return Clip(np.ascontiguousarray(frames), attacker.fps, attacker.audio, attacker.sample_rate, truth,
                landmarks=marks)


def cut_splice(victim: Clip, attacker: Clip, at_seconds: float) -> Clip:
    """The victim until ``at_seconds``, then one cut to the attacker for the rest (a face swap by editing)."""
    n = min(len(victim.frames), len(attacker.frames))
    cut = int(round(at_seconds * victim.fps))
    return splice(victim, attacker, np.arange(n) < cut, "cut_splice", f"victim until {at_seconds:.2f} s, then a cut")


def predictable_match_frames(n_frames: int, count: int = 4) -> list[int]:
    """The frames the face engine used to check before issue #12: ``count`` evenly spaced ones.

    An attacker who knows the code puts the victim exactly there (issue #12, attack 3).
    """
    return sorted({int(i) for i in np.linspace(0, n_frames - 1, min(n_frames, count)).round()})


def still_print(photo: PhotoLike, duration: float, seed: int = 0) -> Clip:
    """A paper print of ``photo`` held still in front of the camera for ``duration`` seconds."""
    from pensioncert.synth.audio import noise_floor

    img = load_photo(photo)
    n = max(2, int(round(duration * FPS)))
    frames, seen = _planar_print(img, n, seed, moving=False)
    truth, marks = truth_from("still_photo", seed, seen, FPS, "en", None, None, [], [])
    truth.notes = "flat print held still"
    audio = noise_floor(int(round(n / FPS * SAMPLE_RATE)), np.random.default_rng([seed, 71]))
    return Clip(frames, FPS, audio, SAMPLE_RATE, truth, landmarks=marks)


def encode_bytes(clip: Clip, container: str = "webm", *, max_side: int = 480) -> bytes:
    """The clip as an upload (WebM/VP8+Opus or MP4/H.264+AAC), scaled down to ``max_side`` px.

    The evaluation uploads 480 px clips: a phone's recorder sends 480-640 px, and smaller files
    keep ``eval attacks`` affordable on two cores.
    """
    from pensioncert.media.encode import encode_video

    frames = clip.frames
    h, w = frames.shape[1:3]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (int(round(w * scale / 2)) * 2, int(round(h * scale / 2)) * 2)
        frames = np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])
    with tempfile.TemporaryDirectory(prefix="pensioncert-upload-") as tmp:
        path = encode_video(Path(tmp) / f"upload.{container}", frames, clip.fps, clip.audio, clip.sample_rate,
                            container)  # type: ignore[arg-type]
        return path.read_bytes()
