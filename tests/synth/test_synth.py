"""The synthetic subject generator: determinism, truth, outputs, MediaPipe agreement, attacks."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest
from scipy.io import wavfile

from pensioncert.synth import (
    ATTACKS,
    FILE_ATTACKS,
    Clip,
    parse_script,
    render_attacks,
    render_subject,
)
from pensioncert.synth.measure import evaluate_clip

SCRIPT = "blink@0.3,turn_left@0.6-1.4,open_mouth@1.5-1.9"


@pytest.fixture(scope="module")
def clip() -> Clip:
    return render_subject("grace_hopper", script=SCRIPT, seed=3, duration=2.0)


def test_parse_script() -> None:
    events = parse_script("turn_left@2.0-2.8, blink@1.0 ,nod@3s")
    assert [(e.action, e.start, e.end) for e in events] == [
        ("blink", 1.0, 1.4), ("turn_left", 2.0, 2.8), ("nod", 3.0, 4.0)]
    assert parse_script(None) == []
    for bad in ("wave@1.0", "blink", "blink@2.0-1.0"):
        with pytest.raises(ValueError):
            parse_script(bad)


def test_clip_shape_and_truth(clip: Clip) -> None:
    assert clip.frames.shape == (30, 480, 640, 3) and clip.frames.dtype == np.uint8
    assert clip.fps == 15 and clip.sample_rate == 16000
    assert clip.audio is not None and clip.audio.dtype == np.float32 and len(clip.audio) == 32000
    t = clip.truth
    assert len(t.yaw) == len(t.eye_closure) == len(t.face_box) == 30 and set(t.faces) == {1}
    assert max(t.yaw) > 25  # turned left
    assert max(t.eye_closure) == pytest.approx(1.0, abs=0.05) and t.eye_closure[0] == 0
    assert max(t.mouth_open) > 0.9
    closed = int(np.argmax(t.eye_closure))
    assert t.eye_ratio[closed] < 0.4 * t.eye_ratio[0]
    # audio is never digital silence (speech front-ends need a noise floor)
    assert 1e-4 < float(np.sqrt(np.mean(clip.audio**2))) < 0.02


def test_deterministic_for_a_seed(clip: Clip) -> None:
    again = render_subject("grace_hopper", script=SCRIPT, seed=3, duration=2.0)
    assert np.array_equal(again.frames, clip.frames)
    assert again.audio is not None and clip.audio is not None and np.array_equal(again.audio, clip.audio)
    assert again.truth.to_dict() == clip.truth.to_dict()
    other = render_subject("grace_hopper", script=SCRIPT, seed=4, duration=2.0)
    assert not np.array_equal(other.frames, clip.frames)


def test_mediapipe_follows_truth(clip: Clip) -> None:
    report = evaluate_clip(clip)
    assert report.detection_rate >= 0.98
    assert report.yaw_mae < 5 and report.yaw_corr > 0.9
    assert report.eye_mae < 0.25 and report.eye_corr > 0.7
    assert report.mouth_corr > 0.7


@pytest.mark.parametrize(("language", "digits"), [("en", "3709"), ("zh", "38")])
def test_digits_are_spoken_in_order(language: str, digits: str) -> None:
    clip = render_subject("astronaut", digits=digits, language=language, seed=1)
    times = clip.truth.digit_times
    assert [d.digit for d in times] == list(digits)
    assert all(a.offset <= b.onset for a, b in itertools.pairwise(times))
    assert all(0.1 < d.offset - d.onset < 1.0 for d in times)
    assert clip.audio is not None
    # louder during speech than between digits, mouth moves while speaking
    inside = clip.audio[int(times[0].onset * 16000): int(times[0].offset * 16000)]
    gap = clip.audio[int(times[0].offset * 16000) + 800: int(times[1].onset * 16000) - 800]
    assert np.sqrt(np.mean(inside**2)) > 10 * np.sqrt(np.mean(gap**2)) > 0
    k = int((times[1].onset + times[1].offset) / 2 * clip.fps)
    assert clip.truth.mouth_open[k] > 0.2 and clip.truth.mouth_open[0] < 0.05
    if language == "en":  # an offline recogniser hears the digits (the noise floor keeps it working)
        from pocketsphinx import Decoder

        from pensioncert.media.encode import to_int16

        decoder = Decoder(samprate=16000, loglevel="FATAL")
        decoder.start_utt()
        decoder.process_raw(to_int16(clip.audio).tobytes(), full_utt=True)
        decoder.end_utt()
        assert decoder.hyp() is not None and decoder.hyp().hypstr == "three seven zero nine"


def test_writes_every_format(tmp_path: Path) -> None:
    clip = render_subject("grace_hopper", digits="12", seed=2, duration=1.2, out_dir=tmp_path, name="g")
    assert set(clip.paths) == {"y4m", "wav", "webm", "mp4", "json"}
    assert clip.paths["y4m"].read_bytes().startswith(b"YUV4MPEG2 W640 H480 F15:1")
    rate, data = wavfile.read(clip.paths["wav"])
    assert rate == 16000 and data.dtype == np.int16 and clip.audio is not None and len(data) == len(clip.audio)
    for fmt, (vcodec, acodec) in {"webm": ("vp8", "opus"), "mp4": ("h264", "aac")}.items():
        with av.open(str(clip.paths[fmt])) as f:
            assert f.streams.video[0].codec_context.name == vcodec
            assert f.streams.audio[0].codec_context.name == acodec
            frames = list(f.decode(video=0))
        assert len(frames) == len(clip.frames) and frames[0].width == 640
    truth = json.loads(clip.paths["json"].read_text())
    assert truth["challenge_digits"] == "12" and len(truth["yaw"]) == len(clip.frames)
    assert [d["digit"] for d in truth["digit_times"]] == ["1", "2"]


def test_attacks(tmp_path: Path) -> None:
    clips = render_attacks("grace_hopper", seed=5, duration=1.0, digits="4821", out_dir=tmp_path, formats=("mp4",))
    assert set(clips) == {"genuine", *ATTACKS, *FILE_ATTACKS}
    genuine = clips["genuine"]
    for name in ATTACKS:
        c = clips[name]
        assert c.truth.kind == name and c.truth.is_attack
        assert c.frames.shape == genuine.frames.shape, name
        assert (tmp_path / f"{name}.json").is_file() and (tmp_path / f"{name}.mp4").is_file()
    wrong = clips["wrong_digits"].truth
    assert wrong.spoken_digits != "4821" and wrong.challenge_digits == "4821"
    assert clips["silent"].truth.spoken_digits is None
    silent_audio = clips["silent"].audio
    assert silent_audio is not None and np.sqrt(np.mean(silent_audio**2)) < 0.01
    assert max(clips["silent"].truth.mouth_open) > 0.2
    assert set(clips["two_faces"].truth.faces) == {2}
    ids = clips["face_swap"].truth.identity
    assert ids[0] == "subject" and ids[-1] == "other"
    frozen = clips["frozen"]
    repeats = sum(np.array_equal(a, b) for a, b in zip(frozen.frames[:-1], frozen.frames[1:], strict=True))
    assert repeats >= 4
    loop = clips["looping"]
    again = loop.truth.source_frame.index(0, 1)
    assert np.array_equal(loop.frames[0], loop.frames[again])
    assert set(clips["still_photo"].truth.eye_closure) == {0.0}
    original = (tmp_path / "genuine.mp4").stat().st_size
    for name in FILE_ATTACKS:
        assert len(clips[name].frames) == 0
        assert set(clips[name].paths) == {"webm", "mp4"}
    assert clips["truncated"].paths["mp4"].stat().st_size < original
    with pytest.raises(av.error.FFmpegError), av.open(str(clips["corrupt"].paths["mp4"])) as f:
        list(f.decode(video=0))
