"""Write frames and audio the way a phone or a browser's fake camera would deliver them.

Y4M (raw 4:2:0, what Chromium's ``--use-file-for-fake-video-capture`` reads), 16-bit PCM WAV,
WebM (VP8 + Opus, what a browser's MediaRecorder uploads) and MP4 (H.264 + AAC, what phone
camera apps produce). Encoding is in-process through PyAV; nothing is downloaded.
"""

from __future__ import annotations

import wave
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
import cv2
import numpy as np
from numpy.typing import NDArray

Container = Literal["webm", "mp4"]
_CODECS: dict[str, tuple[str, str, int]] = {
    # container: (video codec, audio codec, audio rate)
    "webm": ("libvpx", "libopus", 48000),
    "mp4": ("libx264", "aac", 48000),
}


def write_y4m(path: str | Path, frames: NDArray[np.uint8], fps: float) -> Path:
    """Raw YUV 4:2:0 stream for Chromium's fake camera (it loops the file)."""
    path = Path(path)
    n, h, w = frames.shape[:3]
    rate = Fraction(fps).limit_denominator(1001)
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{rate.numerator}:{rate.denominator} Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def to_int16(audio: NDArray[np.floating] | NDArray[np.int16]) -> NDArray[np.int16]:
    """Float samples in [-1, 1] (or int16 already) as int16."""
    if audio.dtype == np.int16:
        return np.asarray(audio, np.int16)
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)


def write_wav(path: str | Path, audio: NDArray[np.floating] | NDArray[np.int16], sample_rate: int) -> Path:
    """Mono 16-bit PCM WAV."""
    path = Path(path)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(to_int16(audio).tobytes())
    return path


def encode_video(
    path: str | Path,
    frames: NDArray[np.uint8],
    fps: float,
    audio: NDArray[np.floating] | NDArray[np.int16] | None = None,
    sample_rate: int = 16000,
    container: Container = "webm",
    bit_rate: int = 1_200_000,
) -> Path:
    """Encode RGB frames (N, H, W, 3) and optional mono audio into WebM/VP8+Opus or MP4/H.264+AAC."""
    path = Path(path)
    vcodec, acodec, arate = _CODECS[container]
    rate = Fraction(fps).limit_denominator(1001)
    opts = {"deadline": "realtime", "cpu-used": "8"} if vcodec == "libvpx" else {"preset": "veryfast"}
    with av.open(str(path), "w", format=container) as out:
        vs: Any = out.add_stream(vcodec, rate=rate, options=opts)
        vs.width, vs.height = frames.shape[2], frames.shape[1]
        vs.pix_fmt = "yuv420p"
        vs.bit_rate = bit_rate
        astream: Any = None
        if audio is not None:
            astream = out.add_stream(acodec, rate=arate)
            astream.layout = "mono"
            astream.bit_rate = 48000
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            for packet in vs.encode(vf):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
        if astream is not None and audio is not None:
            pcm = to_int16(audio).reshape(1, -1)
            af = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            af.sample_rate = sample_rate
            af.pts = 0
            af.time_base = Fraction(1, sample_rate)
            resampler = av.AudioResampler(format=astream.format.name, layout="mono", rate=arate)
            chunks = [*resampler.resample(af), *resampler.resample(None)]
            fifo = av.AudioFifo()
            for c in chunks:
                c.pts = None
                fifo.write(c)
            size = astream.codec_context.frame_size or 1024
            pts = 0
            while fifo.samples > 0:
                chunk: Any = fifo.read(min(size, fifo.samples))
                if chunk.samples < size:  # pad the last frame with silence
                    last = chunk.to_ndarray()
                    padded = np.zeros((last.shape[0], size), dtype=last.dtype)
                    padded[:, : last.shape[1]] = last
                    chunk = av.AudioFrame.from_ndarray(padded, format=astream.format.name, layout="mono")
                chunk.sample_rate = arate
                chunk.pts = pts
                chunk.time_base = Fraction(1, arate)
                pts += size
                for packet in astream.encode(chunk):
                    out.mux(packet)
            for packet in astream.encode(None):
                out.mux(packet)
    return path
