"""``pensioncert eval attacks``: the attacks of issue #12, each through the production decision path.

Every attempt is a whole visit through :class:`~pensioncert.evaluation.harness.Harness`
(session, identity or ID card, challenge, start, upload, the worker's job). The clip that
answers a challenge is rendered *after* the start revealed its schedule, from the synthetic
subjects, as an attacker holding the phone would have to, except the replays: the victim
certified alive a year ago (the harness moves the application's clock, ``Harness.shifted``),
the job kept that recording's motion, and today the attacker uploads that recording.
``genuine_again`` is that victim answering, alive, the challenge the replay answers.

Seeds: thresholds and renderer behaviour are tuned on ``TUNING_SEEDS`` only; the figures the
documents quote are measured on ``REPORT_SEEDS`` (docs/liveness.md, "Attack evaluation").
Nothing is chosen on the report seeds.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from pensioncert.evaluation.harness import Harness, Outcome, Person, Revealed
from pensioncert.liveness.challenges import Challenge
from pensioncert.synth.clip import Clip

TUNING_SEEDS = (0, 1, 2, 3)
REPORT_SEEDS = (100, 101, 102, 103)
SPLITS = {"tuning": TUNING_SEEDS, "report": REPORT_SEEDS}

# Victims cycle over these faces (one with glasses); the attacker is the next one in the list.
FACES = ("grace_hopper", "ocv_glasses_man_1", "astronaut", "ocv_actress_a")

GENUINE = ("genuine_actions", "genuine_digits_zh", "genuine_digits_en", "genuine_again")
ATTACKS = (
    "frames_1",
    "frames_2",
    "frames_5",
    "still_photo",
    "splice_sampled",
    "cut_splice",
    "replay_every_action",
    "replay_earlier_session",
    "replay_same_actions",
    "replay_earlier_reading",
    "digits_wrong_timing",
    "digits_other_language",
    "digits_other_on_schedule",
    "card_other_person",
    "card_attacker_face",
    "extra_actions",
)

# Genuine behaviour (issue #12): reaction after each prompt up to 2 s; natural blinks every 2-5 s.
GENUINE_LATENCY = (0.3, 2.0)
ACTION_SECONDS = {"blink": (0.3, 0.5), "open_mouth": (0.7, 1.2), "turn_left": (0.9, 1.4),
                  "turn_right": (0.9, 1.4), "nod": (0.9, 1.3)}


@dataclass
class AttemptRecord:
    """One attempt and its outcome, for the figures and for the details a reader may check."""

    kind: str  # an attack name or a genuine variant
    seed: int
    victim: str
    outcome: Outcome
    render_seconds: float = 0.0

    @property
    def is_attack(self) -> bool:
        return not self.kind.startswith("genuine")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "seed": self.seed, "victim": self.victim, "result": self.outcome.result,
                "reasons": self.outcome.reasons, "challenge": self.outcome.challenge,
                "refused_step": self.outcome.refused_step,
                "decision_seconds": round(self.outcome.decision_seconds, 2),
                "render_seconds": round(self.render_seconds, 2), "scores": self.outcome.scores}


@dataclass
class AttackReport:
    """APCER per attack (share of attack attempts that passed), BPCER (share of genuine ones that did not)."""

    apcer: dict[str, float]
    bpcer: float
    bpcer_by_kind: dict[str, float]
    counts: dict[str, int]
    seeds: list[int]
    records: list[AttemptRecord] = field(default_factory=list)

    def as_dict(self, details: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"apcer": self.apcer, "bpcer": self.bpcer, "bpcer_by_kind": self.bpcer_by_kind,
                               "counts": self.counts, "seeds": self.seeds}
        if details:
            out["attempts"] = [r.as_dict() for r in self.records]
        return out


def summarise(records: Sequence[AttemptRecord], seeds: Sequence[int]) -> AttackReport:
    attacks: dict[str, list[bool]] = defaultdict(list)
    genuine: dict[str, list[bool]] = defaultdict(list)
    for r in records:
        (attacks if r.is_attack else genuine)[r.kind].append(r.outcome.passed)
    every_genuine = [p for v in genuine.values() for p in v]
    return AttackReport(
        apcer={k: float(np.mean(v)) for k, v in sorted(attacks.items())},
        bpcer=1.0 - float(np.mean(every_genuine)) if every_genuine else float("nan"),
        bpcer_by_kind={k: 1.0 - float(np.mean(v)) for k, v in sorted(genuine.items())},
        counts={k: len(v) for k, v in sorted(attacks.items())} | {"genuine": len(every_genuine)},
        seeds=list(seeds), records=list(records),
    )


# ------------------------------------------------------------------ rendering answers


def answer_script(revealed: Revealed, rng: random.Random, *, latency: tuple[float, float] = GENUINE_LATENCY,
                  extra: Sequence[str] = (), timed: bool = True) -> str:
    """A synth script answering ``revealed`` as a (slow) person would, from ``synth.subject``.

    ``extra`` adds unrequested actions in the gaps between prompts (an attack); ``timed=False``
    answers at a steady pace from the start, ignoring the schedule (an attack on digits).
    """
    from dataclasses import replace

    from pensioncert.synth.subject import follow_schedule_script

    challenge = revealed.as_challenge()
    if not timed:
        challenge = replace(challenge, schedule=())
    script = follow_schedule_script(challenge, latency=latency, rng=rng)
    if extra:
        slots = [*revealed.schedule, revealed.record_seconds]
        parts = [script]
        for k, action in enumerate(extra):  # halfway between two prompts, a little after the last one
            i = k % (len(slots) - 1)
            at = (slots[i] + slots[i + 1]) / 2 + 0.3
            lo, _ = ACTION_SECONDS.get(action, (0.9, 1.2))
            parts.append(f"{action}@{at:.2f}-{at + lo:.2f}")
        script = ",".join(p for p in parts if p)
    return script


def render_answer(photo: str, revealed: Revealed, seed: int, rng: random.Random, *,
                  latency: tuple[float, float] = GENUINE_LATENCY, extra: Sequence[str] = (),
                  timed: bool = True, script: str | None = None, glasses: bool = False,
                  hat: bool = False) -> Clip:
    """The person in ``photo`` answering ``revealed``: following its schedule, after a human latency.

    ``script`` (from ``answer_script``) makes two renders act identically (the splices).
    """
    from pensioncert.synth import render_subject

    script = script if script is not None else answer_script(revealed, rng, latency=latency, extra=extra,
                                                             timed=timed)
    return render_subject(photo, script=script, language=revealed.language, seed=seed,
                          duration=revealed.record_seconds, name="answer", glasses=glasses, hat=hat)


def read_other_digits(photo: str, revealed: Revealed, seed: int, digits: str, language: str) -> Clip:
    """A recording of ``digits`` read in ``language`` at a steady pace (a replayed or dubbed reading)."""
    from pensioncert.synth import render_subject

    return render_subject(photo, digits=digits, language=language, script="blink@0.6", seed=seed,
                          duration=max(revealed.record_seconds, 1.6 + 0.9 * len(digits)), name="reading")


@lru_cache(maxsize=8)
def _every_action_clip(photo: str, seed: int) -> Clip:
    from pensioncert.synth import render_subject
    from pensioncert.synth.attacks import every_action_script

    duration = 12.0
    return render_subject(photo, script=every_action_script(duration), seed=seed, duration=duration,
                          name="every_action")


# ------------------------------------------------------------------ the campaign of one seed


@dataclass
class _Seed:
    """What one seed's attempts share: the harness, the faces, earlier recordings to replay."""

    harness: Harness
    seed: int
    victim: str
    attacker: str
    rng: random.Random
    # (kind, language) of a challenge -> a genuine answer to it, and what that challenge asked
    earlier: dict[tuple[str, str], tuple[Clip, Revealed]] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # attempts made so far, per kind

    def reference(self, photo: str) -> bytes:
        from pensioncert.evaluation.harness import png_bytes
        from pensioncert.synth import load_photo

        return png_bytes(load_photo(photo))


def _upload(clip: Clip) -> bytes:
    from pensioncert.synth.attacks import encode_bytes

    return encode_bytes(clip, "webm")


def _channel(kind: str) -> tuple[str, str]:
    """Channel and session language for an attempt: actions on the city app, digits on WeChat."""
    if kind in ("genuine_digits_en",):
        return "wechat", "en"
    if "digits" in kind or "reading" in kind or kind.startswith("card_"):
        return "wechat", "zh-CN"
    return "cityapp", "zh-CN"


def _card_jpegs(person: Person, portrait_photo: str, seed: int) -> tuple[bytes, bytes]:
    """Front and back of a generated ID card with ``person``'s fields and ``portrait_photo``'s face."""
    from pensioncert.documents import cardgen
    from pensioncert.synth import load_photo

    identity = cardgen.Identity(
        name=person.name, sex="male" if person.sex == "male" else "female", ethnicity="汉",
        birth_date=person.birth_date,
        address="深圳市福田区福华路1024号园岭新村3栋502", id_number=person.id_number,
        authority="深圳市公安局福田分局", valid_from=date(2016, 5, 14), valid_until=date(2036, 5, 14),
    )
    front = cardgen.generate_card(seed, "front", identity=identity, portrait=load_photo(portrait_photo))
    back = cardgen.generate_card(seed, "back", identity=identity)
    return front.jpeg(), back.jpeg()


def _attempt(ctx: _Seed, kind: str) -> AttemptRecord:
    """Run attempt ``kind`` for this seed; the respond functions render after the start."""
    h, rng, seed = ctx.harness, ctx.rng, ctx.seed
    channel, language = _channel(kind)
    rendered = 0.0

    def timed(make: Callable[[Revealed], Clip]) -> Callable[[Revealed], bytes]:
        def respond(revealed: Revealed) -> bytes:
            nonlocal rendered
            began = time.perf_counter()
            clip = make(revealed)
            data = _upload(clip)
            rendered += time.perf_counter() - began
            return data
        return respond

    victim_ref = ctx.reference(ctx.victim)
    card: tuple[bytes, bytes | None] | None = None
    pin: Challenge | None = None
    person = h.enrol(victim_ref)
    visit = ctx.visits[kind]
    ctx.visits[kind] += 1
    render_seed = seed * 100 + len(kind) + 1000 * visit

    def genuine(revealed: Revealed) -> Clip:
        # Every third genuine subject wears glasses, every third a hat (synth.subject draws them).
        look = (seed + visit) % 3
        clip = render_answer(ctx.victim, revealed, render_seed, rng, glasses=look == 1, hat=look == 2)
        ctx.earlier.setdefault((revealed.kind, revealed.language), (clip, revealed))
        return clip

    def earlier_answer(kind_of: str, language: str = "zh") -> tuple[Clip, Revealed]:
        if (kind_of, language) not in ctx.earlier:  # not made yet in this seed: an earlier visit makes it
            _attempt(ctx, {("actions", "zh"): "genuine_actions", ("digits", "en"): "genuine_digits_en"}.get(
                (kind_of, language), "genuine_digits_zh"))
        return ctx.earlier[(kind_of, language)]

    def earlier(kind_of: str, language: str = "zh") -> Clip:
        return earlier_answer(kind_of, language)[0]

    def last_year(kind_of: str) -> tuple[Clip, Revealed]:
        """The victim's own session a year ago (a new victim each time): ``person`` becomes them."""
        nonlocal person
        person, clip, revealed = _session_a_year_ago(ctx, victim_ref, kind_of, render_seed + 500)
        return clip, revealed

    make: Callable[[Revealed], Clip]
    if kind in GENUINE and kind != "genuine_again":
        make = genuine
    elif kind.startswith("frames_"):
        count = int(kind.split("_")[1])

        def make(revealed: Revealed) -> Clip:
            from pensioncert.synth.attacks import few_frames

            return few_frames(earlier(revealed.kind), count)
    elif kind == "still_photo":
        def make(revealed: Revealed) -> Clip:
            from pensioncert.synth.attacks import still_print

            return still_print(ctx.victim, revealed.record_seconds, seed)
    elif kind in ("splice_sampled", "cut_splice"):
        def make(revealed: Revealed) -> Clip:
            from pensioncert.synth.attacks import cut_splice, predictable_match_frames, splice

            # Both people follow the same script and sway, so poses line up at the joins.
            script = answer_script(revealed, rng)
            victim = render_answer(ctx.victim, revealed, render_seed, rng, script=script)
            attacker = render_answer(ctx.attacker, revealed, render_seed, rng, script=script)
            if kind == "cut_splice":
                return cut_splice(victim, attacker, revealed.schedule[0] + 0.6 if revealed.schedule else 1.5)
            n = min(len(victim.frames), len(attacker.frames))
            return splice(victim, attacker, predictable_match_frames(n), "splice_sampled")
    elif kind == "replay_every_action":
        def make(revealed: Revealed) -> Clip:
            return _every_action_clip(ctx.victim, seed)
    elif kind == "replay_earlier_session":
        # The replays: the victim's own recording from their session a year ago, played to today's challenge.
        old_session = last_year("actions")

        def make(revealed: Revealed) -> Clip:
            return old_session[0]
    elif kind in ("replay_same_actions", "genuine_again"):
        # The attacker starts challenge after challenge until one asks the actions of last year's
        # recording, in its order (1 in 40-120 starts); that conditional case is measured here.
        # genuine_again: the same victim and the same challenge, answered by the victim, alive.
        old_clip, old_revealed = last_year("actions")
        pin = _same_content_fresh_schedule(old_revealed, rng)

        def make(revealed: Revealed) -> Clip:
            return genuine(revealed) if kind == "genuine_again" else old_clip
    elif kind == "replay_earlier_reading":
        # Last year's Mandarin reading of four digits, played to today's digits.
        old_reading = last_year("digits")

        def make(revealed: Revealed) -> Clip:
            return old_reading[0]
    elif kind == "digits_wrong_timing":
        def make(revealed: Revealed) -> Clip:
            return render_answer(ctx.victim, revealed, render_seed, rng, timed=False)
    elif kind == "digits_other_language":
        def make(revealed: Revealed) -> Clip:
            other = "en" if revealed.language == "zh" else "zh"
            said = "".join(rng.choice("0123456789") for _ in range(4))
            return read_other_digits(ctx.victim, revealed, render_seed, said, other)
    elif kind == "digits_other_on_schedule":
        # Other digits, each spoken on its prompt (an attacker re-timing syllables cut from old
        # readings): only content recognition (English) or verification (Mandarin) stops it.
        def make(revealed: Revealed) -> Clip:
            from dataclasses import replace

            other = "".join(str((int(d) + rng.randint(1, 9)) % 10) for d in revealed.digits)
            return render_answer(ctx.victim, replace(revealed, digits=other), render_seed, rng)
    elif kind in ("card_other_person", "card_attacker_face"):
        person = h.enrol(None)  # the victim has no registry photo: the card's portrait is the reference
        if kind == "card_other_person":
            holder = h.enrol(None)  # the attacker's own, genuine card
            card = _card_jpegs(holder, ctx.attacker, seed)
        else:
            card = _card_jpegs(person, ctx.attacker, seed)  # the victim's fields, the attacker's face

        def make(revealed: Revealed) -> Clip:
            return render_answer(ctx.attacker, revealed, render_seed, rng)
    elif kind == "extra_actions":
        def make(revealed: Revealed) -> Clip:
            from pensioncert.synth.attacks import EVERY_ACTION

            unrequested = [a for a in EVERY_ACTION if a not in revealed.actions and a != "blink"]
            return render_answer(ctx.victim, revealed, render_seed, rng, extra=unrequested)
    else:
        raise ValueError(f"unknown attempt kind {kind!r}")
    outcome = h.attempt(person, timed(make), channel=channel, language=language, card=card, pin=pin)
    return AttemptRecord(kind, seed, ctx.victim, outcome, rendered)


def _session_a_year_ago(ctx: _Seed, reference: bytes, kind_of: str, render_seed: int) -> tuple[Person, Clip, Revealed]:
    """A new victim, due a year ago too, who certified then, alive (actions on the city app, or
    Mandarin digits on WeChat): what a replay attacker may hold today, and what the job kept of it."""
    h = ctx.harness
    person = h.enrol(reference, last_certified_months_ago=23)
    made: list[tuple[Clip, Revealed]] = []

    def respond(revealed: Revealed) -> bytes:
        clip = render_answer(ctx.victim, revealed, render_seed, ctx.rng)
        made.append((clip, revealed))
        return _upload(clip)

    channel, language = _channel("genuine_actions" if kind_of == "actions" else "genuine_digits_zh")
    with h.shifted(-365):
        h.attempt(person, respond, channel=channel, language=language)
    if not made:
        raise RuntimeError(f"seed {ctx.seed}: last year's {kind_of} session was refused before recording")
    return person, *made[0]


def _same_content_fresh_schedule(old: Revealed, rng: random.Random) -> Challenge:
    """``old``'s content with a schedule drawn afresh, as the server would draw it."""
    from dataclasses import replace

    from pensioncert.liveness.challenges import ChallengeKind, draw_schedule
    from pensioncert.settings import get_settings

    schedule = draw_schedule(ChallengeKind(old.kind), len(old.as_challenge().steps), rng, get_settings().liveness)
    return replace(old.as_challenge(), schedule=schedule)


def run_seed(seed: int, kinds: Sequence[str] = (*GENUINE, *ATTACKS), *,
             settings_env: dict[str, str] | None = None,
             progress: Callable[[str], None] | None = None) -> Iterator[AttemptRecord]:
    """Every attempt of ``kinds`` for one seed, in one harness (one temporary database)."""
    victim = FACES[seed % len(FACES)]
    attacker = FACES[(seed + 1) % len(FACES)]
    with Harness(settings_env=settings_env, challenge_rng=random.Random(seed)) as h:
        ctx = _Seed(h, seed, victim, attacker, random.Random(f"attacks/{seed}"))
        for kind in kinds:
            if progress:
                progress(f"seed {seed}: {kind}")
            yield _attempt(ctx, kind)


def evaluate(seeds: Iterable[int], kinds: Sequence[str] = (*GENUINE, *ATTACKS),
             progress: Callable[[str], None] | None = None) -> Iterator[AttemptRecord]:
    """Every attempt of ``kinds`` for every seed (a fresh harness per seed)."""
    for seed in seeds:
        yield from run_seed(seed, kinds, progress=progress)
