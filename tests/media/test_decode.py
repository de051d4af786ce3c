"""Decoding phone uploads: both container families, and every refusal with its own code."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
import pytest

from pensioncert.media.decode import (
    AUDIO_RATE,
    CorruptMedia,
    DimensionsTooLarge,
    EmptyUpload,
    MediaError,
    TruncatedMedia,
    UnsupportedCodec,
    UploadTooLarge,
    VideoTooLong,
    check_media,
    decode_media,
)
from pensioncert.messages import catalogue
from pensioncert.settings import Settings
from tests.media.damage import zero_late_video_frame

W, H, FPS, SECONDS = 160, 120, 15, 2.0


def _encode(fmt: str, vcodec: str, acodec: str | None, *, seconds: float = SECONDS, tone: float = 440.0,
            w: int = W, h: int = H) -> bytes:
    """A moving gradient with a sine tone: frame content and pitch let us check what comes back."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        vs = out.add_stream(vcodec, rate=FPS)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        ast = None
        if acodec:
            rate = 48000
            ast = out.add_stream(acodec, rate=rate)
            ast.layout = "mono"
        n = int(seconds * FPS)
        yy, xx = np.mgrid[0:h, 0:w]
        for k in range(n):
            img = np.stack([(xx + 4 * k) % 256, yy * 2 % 256, np.full_like(xx, 128)], axis=2).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, FPS)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if ast is not None:
            rate = 48000
            t = np.arange(int(seconds * rate)) / rate
            pcm = (0.3 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
            frame_size = ast.codec_context.frame_size or 1024
            for i in range(0, len(pcm), frame_size):
                chunk = pcm[i:i + frame_size]
                if len(chunk) < frame_size:
                    chunk = np.pad(chunk, (0, frame_size - len(chunk)))
                af = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                af.sample_rate = rate
                af.pts = i
                for packet in ast.encode(af):
                    out.mux(packet)
            for packet in ast.encode():
                out.mux(packet)
    return buf.getvalue()


@pytest.fixture(scope="module")
def webm() -> bytes:
    return _encode("webm", "libvpx", "libopus")


@pytest.fixture(scope="module")
def mp4() -> bytes:
    return _encode("mp4", "libx264", "aac")


def _dominant_hz(audio: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    return float(np.argmax(spectrum) * AUDIO_RATE / len(audio))


@pytest.mark.parametrize("name", ["webm", "mp4"])
def test_decodes_frames_and_16k_mono_audio(name: str, request: pytest.FixtureRequest) -> None:
    media = decode_media(request.getfixturevalue(name))
    assert media.frames.shape[1:] == (H, W, 3) and media.frames.dtype == np.uint8
    assert abs(len(media.frames) - SECONDS * FPS) <= 1
    assert np.all(np.diff(media.times) > 0)
    assert media.sample_rate == AUDIO_RATE and media.audio.ndim == 1
    assert abs(len(media.audio) / AUDIO_RATE - SECONDS) < 0.15
    assert abs(_dominant_hz(media.audio[2000:-2000]) - 440.0) < 10.0
    # the gradient moves 4 px per frame: content, not just shape, survives decoding
    shift = np.abs(media.frames[1, :, :, 0].astype(int) - np.roll(media.frames[0, :, :, 0], 4, axis=1))
    assert np.median(shift[:, 8:]) < 12


def test_vp9_and_silent_video() -> None:
    media = decode_media(_encode("webm", "libvpx-vp9", None, seconds=1.0))
    assert media.video_codec == "vp9" and media.audio_codec is None and media.audio.size == 0


def test_downscale_and_frame_rate_cap(webm: bytes) -> None:
    media = decode_media(webm, max_side=80, target_fps=7.5)
    assert media.frames.shape[1:3] == (60, 80)
    assert abs(len(media.frames) - SECONDS * 7.5) <= 1
    assert media.source_size == (W, H)


@pytest.fixture(params=[decode_media, check_media], ids=["decode", "check"])
def reader(request: pytest.FixtureRequest) -> Callable[..., object]:
    """The full decode (the worker) and the structural check (the API) refuse the same files the same way."""
    return request.param  # type: ignore[no-any-return]


def _settings(**upload: object) -> Settings:
    s = Settings()
    return s.model_copy(update={"upload": s.upload.model_copy(update=upload)})


@pytest.mark.parametrize(
    ("make", "error", "code"),
    [
        (lambda webm, mp4: b"", EmptyUpload, "media.empty"),
        (lambda webm, mp4: b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 20, CorruptMedia, "media.corrupt"),
        (lambda webm, mp4: b"not a video at all" * 100, CorruptMedia, "media.corrupt"),
        (lambda webm, mp4: mp4[: int(len(mp4) * 0.45)], TruncatedMedia, "media.truncated"),
        (lambda webm, mp4: webm[: int(len(webm) * 0.45)], TruncatedMedia, "media.truncated"),
    ],
    ids=["empty", "garbage-ebml", "garbage", "truncated-mp4", "truncated-webm"],
)
def test_refusals_have_their_own_codes(make, error, code, reader, webm: bytes, mp4: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as caught:
        reader(make(webm, mp4))
    assert caught.value.code == code
    assert code in catalogue()


def test_too_large_is_refused_before_parsing(webm: bytes, reader: Callable[..., object]) -> None:
    with pytest.raises(UploadTooLarge) as caught:
        reader(webm, settings=_settings(max_video_bytes=len(webm) - 1))
    assert caught.value.code == "media.too_large"
    assert len(decode_media(webm, settings=_settings(max_video_bytes=len(webm))).frames) > 0


def test_too_long(webm: bytes, reader: Callable[..., object]) -> None:
    with pytest.raises(VideoTooLong):
        reader(webm, settings=_settings(max_video_seconds=0.5))


def test_too_long_without_a_declared_duration(webm: bytes, reader: Callable[..., object],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A live stream (MediaRecorder) declares no duration: the timestamps themselves are limited."""
    from pensioncert.media import decode

    monkeypatch.setattr(decode, "_declared_duration", lambda container, stream: None)
    with pytest.raises(VideoTooLong):
        reader(webm, settings=_settings(max_video_seconds=0.5))
    reader(webm, settings=_settings(max_video_seconds=SECONDS))


def test_dimensions_limit(webm: bytes, reader: Callable[..., object]) -> None:
    s = Settings()
    tight = s.model_copy(update={"upload": s.upload.model_copy(update={"max_video_side": W - 1})})
    with pytest.raises(DimensionsTooLarge) as caught:
        reader(webm, settings=tight)
    assert caught.value.code == "media.dimensions_too_large"


def test_wrong_codec(reader: Callable[..., object]) -> None:
    with pytest.raises(UnsupportedCodec) as caught:
        reader(_encode("mp4", "mpeg4", None, seconds=0.5))
    assert caught.value.code == "media.unsupported_codec"


def test_every_media_error_has_a_message() -> None:
    codes = {cls.code for cls in MediaError.__subclasses__()} | {MediaError.code}
    assert codes <= set(catalogue())


@pytest.mark.parametrize("fmt", ["webm", "mp4"])
def test_damage_inside_a_later_frame_is_left_to_the_full_decode(fmt: str, webm: bytes, mp4: bytes) -> None:
    """The upload check reads structure only; the worker's decode refuses the damaged frame."""
    damaged = zero_late_video_frame(webm if fmt == "webm" else mp4)
    check_media(damaged)
    with pytest.raises(MediaError) as caught:
        decode_media(damaged)
    assert caught.value.code in ("media.truncated", "media.corrupt")


def test_audio_left_undecoded_when_not_asked_for(webm: bytes) -> None:
    """The actions analysis does not listen: the same frames, no sound decoded."""
    full, silent = decode_media(webm), decode_media(webm, audio=False)
    assert full.audio.size > 0 and silent.audio.size == 0 and silent.audio_codec == full.audio_codec
    assert np.array_equal(full.frames, silent.frames) and np.array_equal(full.times, silent.times)
