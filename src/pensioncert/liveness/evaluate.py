"""The liveness evaluation: a synthetic suite of genuine and attack recordings, APCER and BPCER.

ISO/IEC 30107-3 terms: APCER is the share of attack presentations accepted, reported per
attack type; BPCER the share of genuine presentations rejected. Everything is generated from
photos shipped inside installed packages (``pensioncert.synth``), so the figures reproduce
from a clean checkout. The suite is synthetic: see docs/liveness.md for what it does not show.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pensioncert.liveness.analyse import LivenessVerdict, analyse_recording
from pensioncert.liveness.challenges import ACTIONS, Challenge, ChallengeKind, parse_challenge
from pensioncert.media.decode import MediaError

DEFAULT_PHOTOS = ("grace_hopper", "astronaut")  # the synth's clean portraits; more with --photos
SYNTH_ATTACKS = ("still_photo", "moved_photo", "screen_replay", "wrong_digits", "silent", "two_faces",
                 "face_swap", "looping", "frozen", "truncated", "corrupt")
OWN_ATTACKS = ("stale_actions", "dubbed_photo", "photo_head_actions", "zh_wrong_count", "zh_dubbed_photo")
_T0 = datetime(2025, 1, 1, tzinfo=UTC)
# Slow, elderly timing: how long each action lasts (s) when the genuine subject does it.
_DURATIONS = {"blink": (0.4, 0.7), "open_mouth": (0.8, 1.5), "turn_left": (1.0, 1.8),
              "turn_right": (1.0, 1.8), "nod": (1.0, 1.6)}


@dataclass
class SuiteItem:
    """One recording of the suite, on disk, with the challenge it is presented against."""

    name: str
    kind: str  # "genuine" or an attack type
    genuine_kind: str  # digits_en | digits_zh | actions (for genuine), else ""
    challenge: str  # parse_challenge spelling
    language: str
    path: str
    photo: str
    seed: int

    def as_challenge(self) -> Challenge:
        return parse_challenge(self.challenge, now=_T0, language=self.language, allow_untimed=True)

    @property
    def is_attack(self) -> bool:
        return self.kind != "genuine"


def actions_script(actions: Sequence[str], rng: random.Random, spontaneous_blink: bool) -> tuple[str, float]:
    """A synth script doing ``actions`` in order, slowly, with random pauses; returns (script, end)."""
    t = rng.uniform(0.6, 1.2)  # reaction time after the prompt
    parts: list[str] = []
    for action in actions:
        lo, hi = _DURATIONS[action]
        d = rng.uniform(lo, hi)
        parts.append(f"{action}@{t:.2f}-{t + d:.2f}")
        t += d + rng.uniform(0.3, 1.0)
    if spontaneous_blink and "blink" not in actions:
        s = rng.uniform(0.2, t - 0.5)
        parts.append(f"blink@{s:.2f}-{s + 0.3:.2f}")
    return ",".join(parts), t


def _other_actions(actions: tuple[str, ...], rng: random.Random) -> tuple[str, ...]:
    """A challenge the recording of ``actions`` cannot answer: it asks for a head or mouth
    action that was never done (blink is excluded: people blink anyway)."""
    while True:
        other = tuple(rng.sample(ACTIONS, len(actions)))
        if any(a not in actions and a != "blink" for a in other):
            return other


def build_suite(out_dir: Path, photos: Sequence[str], seeds: Sequence[int],
                progress: Callable[[str], None] | None = None) -> list[SuiteItem]:
    """Render (or reuse from ``out_dir``) the suite; a manifest makes reruns cheap."""
    from pensioncert.media.encode import encode_video
    from pensioncert.synth import render_attacks, render_subject

    out_dir.mkdir(parents=True, exist_ok=True)
    items: list[SuiteItem] = []
    for photo in photos:
        for seed in seeds:
            cell = out_dir / f"{photo}-s{seed}"
            manifest = cell / "manifest.json"
            if manifest.exists():
                items.extend(SuiteItem(**d) for d in json.loads(manifest.read_text()))
                continue
            cell.mkdir(parents=True, exist_ok=True)
            fmt: Literal["webm", "mp4"] = "webm" if seed % 2 == 0 else "mp4"  # both upload families
            rng = random.Random(f"{photo}/{seed}")
            digits = "".join(rng.choice("0123456789") for _ in range(4))
            cell_items: list[SuiteItem] = []

            def add(name: str, kind: str, gkind: str, challenge: str, language: str, path: Path,
                    _photo: str = photo, _seed: int = seed, _items: list[SuiteItem] = cell_items) -> None:
                _items.append(SuiteItem(name, kind, gkind, challenge, language, str(path), _photo, _seed))

            if progress:
                progress(f"{photo} seed {seed}: attacks")
            clips = render_attacks(photo, seed=seed, out_dir=cell, digits=digits, formats=(fmt,))
            for name, clip in clips.items():
                path = clip.paths.get(fmt)
                if path is None:
                    continue
                add(f"{photo}/s{seed}/{name}", "genuine" if name == "genuine" else name,
                    "digits_en" if name == "genuine" else "", f"digits:{digits}", "en", path)
            # own attack: a still photo dubbed with the genuine voice
            still, genuine = clips.get("still_photo"), clips["genuine"]
            if still is not None:
                p = encode_video(cell / f"dubbed_photo.{fmt}", still.frames, still.fps, genuine.audio,
                                 genuine.sample_rate, container=fmt)
                add(f"{photo}/s{seed}/dubbed_photo", "dubbed_photo", "", f"digits:{digits}", "en", p)
            moved = clips.get("moved_photo")
            if moved is not None and fmt in moved.paths:
                # own attack: the tilted print against head-only actions, its best chance
                head_only = tuple(rng.sample(("turn_left", "turn_right", "nod"), 2))
                add(f"{photo}/s{seed}/photo_head_actions", "photo_head_actions", "",
                    "actions:" + ",".join(head_only), "en", moved.paths[fmt])

            if progress:
                progress(f"{photo} seed {seed}: genuine actions")
            for k in range(2):
                count = rng.randint(2, 3)
                actions = tuple(rng.sample(ACTIONS, count))
                script, end = actions_script(actions, rng, spontaneous_blink=k == 0)
                clip = render_subject(photo, script=script, seed=seed * 10 + k, duration=end + 0.4,
                                      out_dir=cell, formats=(fmt,), name=f"actions{k}")
                add(f"{photo}/s{seed}/actions{k}", "genuine", "actions", "actions:" + ",".join(actions),
                    "en", clip.paths[fmt])
                other = _other_actions(actions, rng)
                add(f"{photo}/s{seed}/stale_actions{k}", "stale_actions", "", "actions:" + ",".join(other),
                    "en", clip.paths[fmt])

            if progress:
                progress(f"{photo} seed {seed}: Mandarin")
            zh_digits = "".join(rng.choice("0123456789") for _ in range(4))
            clip = render_subject(photo, digits=zh_digits, language="zh", script="blink@0.4", seed=seed + 50,
                                  out_dir=cell, formats=(fmt,), name="zh_genuine")
            add(f"{photo}/s{seed}/zh_genuine", "genuine", "digits_zh", f"digits:{zh_digits}", "zh",
                clip.paths[fmt])
            wrong_count = zh_digits[: 2 + seed % 2] if seed % 2 == 0 else zh_digits + zh_digits[:2]
            clip_wc = render_subject(photo, digits=zh_digits, spoken_digits=wrong_count, language="zh",
                                     script="blink@0.4", seed=seed + 60, out_dir=cell, formats=(fmt,),
                                     name="zh_wrong_count")
            add(f"{photo}/s{seed}/zh_wrong_count", "zh_wrong_count", "", f"digits:{zh_digits}", "zh",
                clip_wc.paths[fmt])
            if still is not None and clip.audio is not None:
                n = min(len(still.frames), int(len(clip.audio) / clip.sample_rate * still.fps))
                p = encode_video(cell / f"zh_dubbed_photo.{fmt}", still.frames[:n], still.fps, clip.audio,
                                 clip.sample_rate, container=fmt)
                add(f"{photo}/s{seed}/zh_dubbed_photo", "zh_dubbed_photo", "", f"digits:{zh_digits}", "zh", p)
            manifest.write_text(json.dumps([asdict(i) for i in cell_items], indent=1))
            items.extend(cell_items)
    return items


@dataclass
class ItemResult:
    name: str
    kind: str
    genuine_kind: str
    accepted: bool
    reasons: list[str]
    seconds: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass
class EvalReport:
    apcer: dict[str, float]
    bpcer: float
    bpcer_by_kind: dict[str, float]
    counts: dict[str, int]
    results: list[ItemResult]

    def as_dict(self, details: bool = True) -> dict[str, Any]:
        d: dict[str, Any] = {"apcer": self.apcer, "bpcer": self.bpcer, "bpcer_by_kind": self.bpcer_by_kind,
                             "counts": self.counts}
        if details:
            d["errors"] = [asdict(r) for r in self.results if r.accepted == (r.kind != "genuine")]
            d["mean_seconds"] = float(np.mean([r.seconds for r in self.results])) if self.results else 0.0
        return d


def _reference(photo: str, cache: dict[str, Any]) -> Any:
    if photo not in cache:
        from pensioncert import biometrics as bio
        from pensioncert.synth import load_photo

        cache[photo] = bio.face_embedding(load_photo(photo))
    return cache[photo]


def evaluate(items: Sequence[SuiteItem], *, face_engine: bool = True) -> Iterator[ItemResult]:
    """Analyse each item against its challenge; a refused upload counts as rejected."""
    refs: dict[str, Any] = {}
    for item in items:
        started = time.perf_counter()
        reference = _reference(item.photo, refs) if face_engine else None
        verdict: LivenessVerdict | None
        try:
            verdict = analyse_recording(Path(item.path), item.as_challenge(), reference, face_engine=face_engine,
                                        require_identity=face_engine)
            accepted, reasons, scores = verdict.passed, verdict.reasons, verdict.scores
        except MediaError as err:
            accepted, reasons, scores = False, [err.code], {}
        yield ItemResult(item.name, item.kind, item.genuine_kind, accepted, reasons,
                         time.perf_counter() - started, scores)


def summarise(results: Sequence[ItemResult]) -> EvalReport:
    by_attack: dict[str, list[bool]] = defaultdict(list)
    genuine: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        if r.kind == "genuine":
            genuine[r.genuine_kind].append(r.accepted)
        else:
            by_attack[r.kind].append(r.accepted)
    apcer = {k: float(np.mean(v)) for k, v in sorted(by_attack.items())}
    all_genuine = [a for v in genuine.values() for a in v]
    bpcer = 1.0 - float(np.mean(all_genuine)) if all_genuine else float("nan")
    counts = {k: len(v) for k, v in sorted(by_attack.items())} | {"genuine": len(all_genuine)}
    return EvalReport(apcer=apcer, bpcer=bpcer,
                      bpcer_by_kind={k: 1.0 - float(np.mean(v)) for k, v in sorted(genuine.items())},
                      counts=counts, results=list(results))


def suite_kind(item: SuiteItem) -> ChallengeKind:
    return ChallengeKind(item.challenge.split(":", 1)[0])
