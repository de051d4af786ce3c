"""A sample pilot built from the synthetic subjects, so the kit is exercised and shown end to end.

Genuine recordings: subjects following the schedule with natural blinking and slow responses
(up to 2 s), some with glasses or a hat. Attacks: the kinds the project can render — a still ``print`` of the reference
photo, a ``video_replay`` of the subject's own earlier recording against a new challenge,
``other_person`` (someone else following the schedule) and a ``splice`` (the subject in the
frames the old matcher looked at, someone else elsewhere). Subgroup columns are labels
assigned in turn (synthetic faces have no age): they show the report's layout, not a finding.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pensioncert.evaluation.attacks import answer_script, render_answer
from pensioncert.evaluation.harness import Revealed, png_bytes
from pensioncert.evaluation.pilot.manifest import write_manifest
from pensioncert.liveness.challenges import Challenge, issue_challenge

SAMPLE_FACES = ("grace_hopper", "astronaut", "ocv_glasses_man_1", "ocv_actress_a", "ocv_smiling_man",
                "ocv_actress_b", "ocv_goatee_man", "ocv_glasses_man_2")
AGE_BANDS = ("60-69", "70-79", "80+")
ATTACK_CYCLE = ("print", "other_person", "video_replay", "splice")


def _challenge(kind: str, language: str, rng: random.Random) -> tuple[Challenge, float]:
    from pensioncert.settings import get_settings

    rules = get_settings().liveness
    now = datetime.now(UTC)
    challenge = issue_challenge(kind, rng, now, "sample", rules, language=language)
    return challenge, challenge.record_seconds(rules)


def build_sample(out: str | Path, *, subjects: int = 8, genuine_per_subject: int = 2, attacks: int | None = None,
                 seed: int = 0, progress: Callable[[str], None] | None = None) -> Path:
    """Render the sample pilot into ``out`` and return its manifest (``manifest.csv``).

    ``attacks`` defaults to one per subject, cycling over ``ATTACK_CYCLE``.
    """
    from pensioncert.synth import load_photo
    from pensioncert.synth.attacks import encode_bytes, predictable_match_frames, splice, still_print

    out = Path(out)
    (out / "recordings").mkdir(parents=True, exist_ok=True)
    (out / "references").mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"sample-pilot/{seed}")
    faces = [SAMPLE_FACES[k % len(SAMPLE_FACES)] for k in range(subjects)]
    rows: list[dict[str, str]] = []
    earlier: dict[str, Path] = {}

    def save(name: str, data: bytes) -> str:
        (out / "recordings" / name).write_bytes(data)
        return f"recordings/{name}"

    def row(file: str, kind: str, challenge: Challenge, subject: int, face: str, **extra: str) -> None:
        rows.append({"file": file, "kind": kind, "challenge": challenge.describe(),
                     "reference": f"references/{face}.png", "language": challenge.language,
                     "subject": f"S{subject:02d}", "age_band": AGE_BANDS[subject % len(AGE_BANDS)],
                     "sex": ("female", "male")[subject % 2], "phone_model": ("phone-a", "phone-b")[subject % 2],
                     "lighting": ("indoor", "window")[(subject // 2) % 2]} | extra)

    for s, face in enumerate(faces):
        (out / "references" / f"{face}.png").write_bytes(png_bytes(load_photo(face)))
        for g in range(genuine_per_subject):
            kind, language = (("actions", "zh"), ("digits", "zh"), ("digits", "en"))[g % 3]
            challenge, seconds = _challenge(kind, language, rng)
            if progress:
                progress(f"genuine {face} {challenge.describe()}")
            clip = render_answer(face, Revealed.of(challenge, seconds), seed * 1000 + s * 10 + g, rng,
                                 glasses=s % 4 == 1, hat=s % 4 == 2)
            name = f"S{s:02d}-genuine{g}.webm"
            row(save(name, encode_bytes(clip)), "genuine", challenge, s, face)
            earlier.setdefault(face, out / "recordings" / name)
    count = subjects if attacks is None else attacks
    for a in range(count):
        s = a % subjects
        face, other = faces[s], SAMPLE_FACES[(SAMPLE_FACES.index(faces[s]) + 1) % len(SAMPLE_FACES)]
        species = ATTACK_CYCLE[a % len(ATTACK_CYCLE)]
        challenge, seconds = _challenge("actions", "zh", rng)
        revealed = Revealed.of(challenge, seconds)
        if progress:
            progress(f"{species} on {face}")
        name = f"S{s:02d}-{species}{a}.webm"
        if species == "print":
            data = encode_bytes(still_print(face, seconds, seed + a))
        elif species == "video_replay" and face in earlier:
            data = earlier[face].read_bytes()
        elif species == "splice":
            script = answer_script(revealed, rng)  # both act the same; only who it is differs
            victim = render_answer(face, revealed, seed + a, rng, script=script)
            attacker = render_answer(other, revealed, seed + a, rng, script=script)
            n = min(len(victim.frames), len(attacker.frames))
            data = encode_bytes(splice(victim, attacker, predictable_match_frames(n)))
        else:
            species = "other_person"
            data = encode_bytes(render_answer(other, revealed, seed + a, rng))
        row(save(name, data), species, challenge, s, face)
    return write_manifest(out / "manifest.csv", rows)

