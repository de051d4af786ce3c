"""Synthetic test subjects: a real face photo rendered as a moving, blinking, speaking 3D head.

Stands in for a retiree in front of a phone (and for a fraudster) in tests, evals, benchmarks
and browser tests. See docs/synth.md.

    clip = render_subject("grace_hopper", digits="3709", seed=1, out_dir="out")
    clip = render_for_challenge("grace_hopper", challenge, latency=(0.4, 2.0), glasses=True)  # timed
    attacks = render_attacks("grace_hopper", seed=1, out_dir="out/attacks")
"""

from pensioncert.synth.attacks import ATTACKS, FILE_ATTACKS, render_attacks
from pensioncert.synth.audio import SAMPLE_RATE, DigitTime
from pensioncert.synth.clip import FORMATS, Clip, GroundTruth
from pensioncert.synth.photos import load_photo, sample_photos
from pensioncert.synth.script import ACTIONS, Event, parse_script
from pensioncert.synth.subject import FPS, HEIGHT, WIDTH, follow_schedule_script, render_for_challenge, render_subject

__all__ = [
    "ACTIONS",
    "ATTACKS",
    "FILE_ATTACKS",
    "FORMATS",
    "FPS",
    "HEIGHT",
    "SAMPLE_RATE",
    "WIDTH",
    "Clip",
    "DigitTime",
    "Event",
    "GroundTruth",
    "follow_schedule_script",
    "load_photo",
    "parse_script",
    "render_attacks",
    "render_for_challenge",
    "render_subject",
    "sample_photos",
]
