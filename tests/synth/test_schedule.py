"""Synthetic subjects that follow a timed challenge's schedule (the genuine users of issue #12)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from pensioncert.liveness.challenges import parse_challenge
from pensioncert.synth import follow_schedule_script, parse_script, render_for_challenge, render_subject

ACTIONS = "actions:turn_left@1.2,blink@3.0,open_mouth@4.9"


def test_actions_start_after_their_prompts_in_order() -> None:
    challenge = parse_challenge(ACTIONS)
    for seed in range(20):
        requested = parse_script(follow_schedule_script(challenge, latency=(0.3, 2.0), blink_every=None,
                                                        rng=random.Random(seed)))
        assert [e.action for e in requested] == ["turn_left", "blink", "open_mouth"]
        for event, prompt in zip(requested, challenge.schedule, strict=True):
            assert prompt + 0.3 <= event.start <= prompt + 2.0 + 1.1  # pushed by at most the previous action
        assert all(a.end < b.start for a, b in itertools.pairwise(requested))


def test_fixed_latency_and_no_blinks() -> None:
    challenge = parse_challenge(ACTIONS)
    script = follow_schedule_script(challenge, latency=1.5, blink_every=None)
    assert script == "turn_left@2.70-3.70,blink@4.50-4.90,open_mouth@6.40-7.20"


def test_natural_blinks_never_overlap_a_requested_action() -> None:
    challenge = parse_challenge("actions:blink@1.0,nod@2.6,turn_right@4.4")
    for seed in range(20):
        events = parse_script(follow_schedule_script(challenge, blink_every=1.5, rng=random.Random(seed)))
        blinks = [e for e in events if e.action == "blink"]
        assert len(blinks) >= 3  # natural ones besides the requested one
        others = [e for e in events if e.action != "blink"]
        for b in blinks:
            assert not any(b.start < o.end and o.start < b.end for o in others)


def test_digits_are_said_at_their_prompts() -> None:
    challenge = parse_challenge("digits:5821@0.5,1.5,2.6,3.4", language="zh")
    script = follow_schedule_script(challenge, latency=0.6, blink_every=None)
    assert script == "say_5@1.10,say_8@2.10,say_2@3.20,say_1@4.00"
    # a slow reader whose answers would run into each other keeps them apart
    crowded = parse_challenge("digits:1234@0.5,1.2,1.9,2.6")
    onsets = [e.start for e in parse_script(follow_schedule_script(crowded, latency=(0.2, 2.0),
                                                                   rng=random.Random(3), blink_every=None))]
    assert all(b - a >= 0.55 - 1e-9 for a, b in itertools.pairwise(onsets))


def test_untimed_challenges_are_answered_in_order() -> None:
    challenge = parse_challenge("actions:nod,blink", allow_untimed=True)
    events = parse_script(follow_schedule_script(challenge, latency=0.5, blink_every=None))
    assert [e.action for e in events] == ["nod", "blink"]


def test_rendered_speech_follows_the_script() -> None:
    clip = render_subject("grace_hopper", script="say_3@0.6,say_9@1.9", seed=2, duration=2.6)
    assert clip.truth.spoken_digits == "39" and clip.truth.challenge_digits == "39"
    assert [d.digit for d in clip.truth.digit_times] == ["3", "9"]
    assert [d.onset for d in clip.truth.digit_times] == pytest.approx([0.6, 1.9], abs=0.01)
    # the voice is heard where the script says, not before
    assert clip.audio is not None
    rms = [float(np.sqrt(np.mean(clip.audio[int(a * 16000):int(b * 16000)] ** 2)))
           for a, b in ((0.1, 0.55), (0.6, 0.9), (1.4, 1.85), (1.9, 2.2))]
    assert rms[1] > 10 * rms[0] and rms[3] > 10 * rms[2]


def test_render_for_challenge_with_glasses_and_hat() -> None:
    challenge = parse_challenge("actions:open_mouth@0.4,blink@1.6")
    plain = render_for_challenge("grace_hopper", challenge, latency=0.3, blink_every=None, duration=1.0, seed=4)
    dressed = render_for_challenge("grace_hopper", challenge, latency=0.3, blink_every=None, duration=1.0, seed=4,
                                   glasses=True, hat=True)
    assert [e.action for e in plain.truth.events] == ["open_mouth", "blink"]
    assert max(plain.truth.mouth_open) > 0.9
    # the accessories change the eyes' surroundings and the top of the head, not the lower face
    box = [int(v) for v in plain.truth.face_box[0]]
    x0, y0, x1, y1 = box
    diff = np.abs(plain.frames[0].astype(int) - dressed.frames[0].astype(int)).mean(axis=2)
    upper = diff[max(0, y0 - 40): y0 + (y1 - y0) // 2, x0:x1].mean()
    chin = diff[y0 + 3 * (y1 - y0) // 4: y1, x0:x1].mean()
    assert upper > 5 * max(chin, 0.5)
