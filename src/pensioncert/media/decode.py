"""Decode a phone upload (WebM/VP8/VP9/Opus, MP4/H.264/AAC) to RGB frames and 16 kHz mono audio.

Uploads are untrusted: every limit is checked before the expensive step it protects
(bytes before parsing, declared dimensions and duration before decoding, decoded totals
while decoding), and every failure is a named error whose ``code`` is a message code in
``messages/catalogue/media.toml``, so the user is told what to do and nothing is half-done.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from pensioncert.errors import CodedError
from pensioncert.settings import Settings, UploadSettings, get_settings

AUDIO_RATE = 16_000  # what the speech checks (pocketsphinx en-us model) expect
VIDEO_CODECS = frozenset({"vp8", "vp9", "h264", "libvpx", "libvpx-vp9", "libdav1d", "av1", "hevc"})
AUDIO_CODECS = frozenset({"opus", "libopus", "aac", "vorbis", "mp3", "pcm_s16le", "pcm_f32le"})


class MediaError(CodedError):
    """An upload we refuse; ``code`` is stable API (media.toml)."""

    code = "media.invalid"


class EmptyUpload(MediaError):
    code = "media.empty"


class UploadTooLarge(MediaError):
    code = "media.too_large"


class CorruptMedia(MediaError):
    code = "media.corrupt"


class TruncatedMedia(MediaError):
    code = "media.truncated"


class UnsupportedCodec(MediaError):
    code = "media.unsupported_codec"


class NoVideo(MediaError):
    code = "media.no_video"


class VideoTooLong(MediaError):
    code = "media.too_long"


class DimensionsTooLarge(MediaError):
    code = "media.dimensions_too_large"


@dataclass(frozen=True)
class DecodedMedia:
    """Frames ``(N, H, W, 3)`` uint8 RGB at their presentation times, and mono float32 audio."""

    frames: np.ndarray
    times: np.ndarray  # seconds, one per frame
    fps: float
    audio: np.ndarray  # float32 in [-1, 1], AUDIO_RATE; empty when the upload has none or it was not asked for
    sample_rate: int
    video_codec: str
    audio_codec: str | None
    source_size: tuple[int, int]  # (width, height) as uploaded, before any downscale

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0]) + 1.0 / self.fps if len(self.times) else 0.0


def decode_media(
    source: bytes | Path,
    *,
    settings: Settings | None = None,
    max_side: int | None = None,
    target_fps: float | None = None,
    audio: bool = True,
) -> DecodedMedia:
    """Decode ``source`` within the upload limits.

    ``max_side`` downscales (keeping aspect) so the long side is at most that many pixels:
    face landmarks need ~200 px faces, not 1080p, and scaling inside the decoder is cheaper
    than afterwards. ``target_fps`` drops frames so analysis cost does not grow with 60 fps phones.
    ``audio=False`` leaves the sound undecoded (``audio`` empty) for analyses that do not listen:
    decoding and resampling it is ~15-25 ms of CPU per 5-s recording (issue 15).
    """
    settings = settings or get_settings()
    with _open(source, settings) as container:
        return _decode(container, settings.upload, max_side, target_fps, audio)


def check_media(source: bytes | Path, *, settings: Settings | None = None) -> None:
    """Refuse at upload, in about a millisecond, what :func:`decode_media` would refuse from the file's structure.

    Checked: size, container, streams and codecs, declared dimensions and duration, every packet's
    timestamp (an endless or cut-short stream), and that the first video and audio frames decode
    with the declared dimensions. Not checked: damage inside later compressed frames, which only a
    full decode finds. The job decodes the whole file anyway, and refuses such a file with the same
    ``media.*`` codes. Before issue 15 the API decoded every frame here too: ~0.1 s of CPU per
    upload, about half of the API's CPU per certification, spent again by the worker.
    """
    settings = settings or get_settings()
    with _open(source, settings) as container:
        _check_packets(container, _probe(container, settings.upload), settings.upload)


@contextlib.contextmanager
def _open(source: bytes | Path, settings: Settings) -> Iterator[av.container.InputContainer]:
    """The upload's bytes, checked for size and MP4 box structure, opened as a container."""
    data = source.read_bytes() if isinstance(source, Path) else bytes(source)
    upload = settings.upload
    if not data:
        raise EmptyUpload("zero-length upload")
    if len(data) > upload.max_video_bytes:
        raise UploadTooLarge(f"{len(data)} bytes > {upload.max_video_bytes}")
    _check_mp4_boxes(data)
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except av.error.FFmpegError as err:
        raise CorruptMedia(f"cannot parse container: {err}") from err
    try:
        yield container
    finally:
        container.close()


@dataclass(frozen=True)
class _Probe:
    """What the container's header says, every header limit already checked."""

    vstream: av.video.stream.VideoStream
    astream: av.audio.stream.AudioStream | None
    vcodec: str
    acodec: str | None
    width: int
    height: int
    declared: float | None  # seconds
    rotation: int


def _probe(container: av.container.InputContainer, upload: UploadSettings) -> _Probe:
    if not container.streams.video:
        raise NoVideo("no video stream")
    vstream = container.streams.video[0]
    vcodec = vstream.codec_context.name
    if vcodec not in VIDEO_CODECS:
        raise UnsupportedCodec(f"video codec {vcodec}")
    astream = container.streams.audio[0] if container.streams.audio else None
    acodec = astream.codec_context.name if astream is not None else None
    if acodec is not None and acodec not in AUDIO_CODECS:
        raise UnsupportedCodec(f"audio codec {acodec}")
    width, height = vstream.codec_context.width, vstream.codec_context.height
    _check_dimensions(width, height, upload)
    declared = _declared_duration(container, vstream)
    if declared is not None:
        _check_length(declared, upload, "declared")
    return _Probe(vstream, astream, vcodec, acodec, width, height, declared, _rotation(vstream))


def _check_packets(container: av.container.InputContainer, probe: _Probe, upload: UploadSettings) -> None:
    """Demux every packet (no decoding) and decode only the first frame of each stream."""
    vstream, astream = probe.vstream, probe.astream
    first: float | None = None
    last = -math.inf
    packets = 0
    video_decoded = audio_decoded = False
    streams = [vstream] + ([astream] if astream is not None else [])
    try:
        for packet in container.demux(*streams):
            if packet.size == 0:
                continue  # the demuxer's flush packet
            if packet.stream.index == vstream.index:
                packets += 1
                if packet.pts is not None and vstream.time_base is not None:
                    t = float(packet.pts * vstream.time_base)
                    first = t if first is None else min(first, t)
                    last = max(last, t)
                    _check_length(t - first, upload, "packets")
                if not video_decoded:
                    for frame in packet.decode():
                        if isinstance(frame, av.VideoFrame):
                            _check_dimensions(frame.width, frame.height, upload)
                            video_decoded = True
            elif not audio_decoded:
                audio_decoded = bool(packet.decode())
    except MediaError:
        raise
    except (av.error.FFmpegError, ValueError) as err:
        raise _read_failure(err, packets, "video packets") from err
    if not packets:
        raise CorruptMedia("no video packet")
    if not video_decoded:
        raise CorruptMedia("the first video frames do not decode")
    if probe.declared is not None and probe.declared > 1.0 and first is not None:
        fps = max(_rate(vstream), 1.0)
        if last - first + 1.0 / fps < 0.75 * probe.declared - 0.5:
            raise TruncatedMedia(f"packets cover {last - first:.2f} s of a declared {probe.declared:.2f} s")


def _decode(container: av.container.InputContainer, upload: UploadSettings, max_side: int | None,
            target_fps: float | None, with_audio: bool) -> DecodedMedia:
    probe = _probe(container, upload)
    vstream, vcodec, acodec = probe.vstream, probe.vcodec, probe.acodec
    astream = probe.astream if with_audio else None
    width, height, declared, rotation = probe.width, probe.height, probe.declared, probe.rotation

    out_w, out_h = width, height
    if max_side and max(width, height) > max_side:
        scale = max_side / max(width, height)
        out_w, out_h = int(round(width * scale / 2) * 2), int(round(height * scale / 2) * 2)

    kept_fps = min(_rate(vstream), target_fps) if target_fps else _rate(vstream)
    frames = _FrameBuffer(out_h, out_w, rotation, expected=(declared or upload.max_video_seconds) * kept_fps)
    times: list[float] = []
    audio_chunks: list[np.ndarray] = []
    resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE) if astream else None
    min_gap = 1.0 / target_fps - 1e-3 if target_fps else 0.0
    last_kept = -math.inf
    first_t: float | None = None
    streams = [vstream] + ([astream] if astream is not None else [])
    try:
        for packet in container.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    if frame.width != width or frame.height != height:
                        _check_dimensions(frame.width, frame.height, upload)
                    t = float(frame.time) if frame.time is not None else len(times) / _rate(vstream)
                    first_t = t if first_t is None else first_t
                    _check_length(t - first_t, upload, "decoded")
                    if t - last_kept < min_gap:
                        continue
                    last_kept = t
                    rgb = frame.reformat(width=out_w, height=out_h, format="rgb24").to_ndarray()
                    frames.append(_rotate(rgb, rotation) if rotation else rgb)
                    times.append(t)
                elif isinstance(frame, av.AudioFrame) and resampler is not None:
                    for chunk in resampler.resample(frame):
                        audio_chunks.append(chunk.to_ndarray().reshape(-1))
    except MediaError:
        raise
    except (av.error.FFmpegError, ValueError) as err:
        raise _read_failure(err, len(frames), "frames") from err
    if resampler is not None:
        for chunk in resampler.resample(None):
            audio_chunks.append(chunk.to_ndarray().reshape(-1))
    if not frames:
        raise CorruptMedia("no video frame could be decoded")
    times_arr = np.asarray(times, dtype=np.float64)
    order = np.argsort(times_arr, kind="stable")
    in_order = bool(np.all(order == np.arange(len(order))))
    fps = _rate(vstream) if not target_fps else min(_rate(vstream), target_fps)
    if declared is not None and declared > 1.0:
        decoded = float(times_arr.max() - times_arr.min()) + 1.0 / max(fps, 1.0)
        if decoded < 0.75 * declared - 0.5:
            raise TruncatedMedia(f"decoded {decoded:.2f} s of a declared {declared:.2f} s")
    audio = np.concatenate(audio_chunks).astype(np.float32) if audio_chunks else np.zeros(0, np.float32)
    return DecodedMedia(
        frames=frames.array() if in_order else frames.array()[order],
        times=times_arr[order] - times_arr.min(),
        fps=fps,
        audio=audio,
        sample_rate=AUDIO_RATE,
        video_codec=vcodec,
        audio_codec=acodec,
        source_size=(width, height),
    )


def _read_failure(err: Exception, done: int, what: str) -> MediaError:
    """A demuxer or decoder error: the file was cut short once some of it was read, else corrupt."""
    if done:
        return TruncatedMedia(f"reading stopped after {done} {what}: {err}")
    return CorruptMedia(f"none of the {what} could be read: {err}")


class _FrameBuffer:
    """Decoded frames written straight into one array (no list of frames stacked at the end).

    Sized from the declared duration; grows by half when a phone delivers more frames than
    it declared. Stacking 60 VGA frames at the end used to copy 55 MB per upload.
    """

    def __init__(self, height: int, width: int, rotation: int, expected: float) -> None:
        shape = (width, height) if rotation in (90, 270) else (height, width)
        capacity = max(8, int(math.ceil(expected)) + 4)
        self._data = np.empty((capacity, *shape, 3), dtype=np.uint8)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, rgb: np.ndarray) -> None:
        if self._count == len(self._data):
            grown = np.empty((len(self._data) + len(self._data) // 2 + 1, *self._data.shape[1:]), dtype=np.uint8)
            grown[: self._count] = self._data
            self._data = grown
        if rgb.shape != self._data.shape[1:]:
            raise CorruptMedia(f"frame of {rgb.shape} in a stream of {self._data.shape[1:]}")
        self._data[self._count] = rgb
        self._count += 1

    def array(self) -> np.ndarray:
        """The frames decoded so far (a view when the buffer is mostly used, else a compact copy)."""
        if self._count >= 0.75 * len(self._data):
            return self._data[: self._count]
        return self._data[: self._count].copy()


def _check_length(seconds: float, upload: UploadSettings, what: str) -> None:
    """At most ``upload.max_video_seconds`` (and half a second of container slack), however measured."""
    if seconds > upload.max_video_seconds + 0.5:
        raise VideoTooLong(f"{what}: {seconds:.1f} s > {upload.max_video_seconds} s")


def _check_dimensions(width: int, height: int, upload: UploadSettings) -> None:
    if width <= 0 or height <= 0:
        raise CorruptMedia(f"frame size {width}x{height}")
    if max(width, height) > upload.max_video_side or width * height > upload.max_video_pixels:
        raise DimensionsTooLarge(f"{width}x{height}")


def _rate(stream: av.video.stream.VideoStream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 30.0


def _declared_duration(container: av.container.InputContainer,
                       stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _rotation(stream: av.video.stream.VideoStream) -> int:
    """Clockwise degrees to turn frames upright (iOS records sideways and says so in metadata)."""
    text = stream.metadata.get("rotate") if stream.metadata else None
    if text is not None:
        try:
            return int(text) % 360
        except ValueError:
            return 0
    try:
        side = dict(stream.side_data)
    except Exception:  # side data API differs across PyAV builds; no rotation is the safe default
        return 0
    matrix = side.get("DISPLAYMATRIX") or side.get("displaymatrix")
    if isinstance(matrix, bytes | bytearray) and len(matrix) >= 36:
        m = struct.unpack("<9i", bytes(matrix[:36]))
        angle = math.degrees(math.atan2(m[1] / 65536, m[0] / 65536))
        return int(round(-angle / 90.0)) * 90 % 360
    return 0


def _rotate(rgb: np.ndarray, clockwise: int) -> np.ndarray:
    if clockwise == 0:
        return rgb
    return np.ascontiguousarray(np.rot90(rgb, k=-(clockwise // 90)))


def _check_mp4_boxes(data: bytes) -> None:
    """Walk MP4 top-level boxes: a box running past the end means the upload was cut short.

    FFmpeg reports a cut MP4 only as "moov atom not found", which we would otherwise have to
    call corrupt; telling the user "the upload was interrupted, try again" is more useful.
    """
    if len(data) < 12 or data[4:8] != b"ftyp":
        return
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            if pos + 16 > len(data):
                raise TruncatedMedia("cut inside a box header")
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        elif size == 0:
            return  # box runs to end of file by definition
        if size < 8:
            raise CorruptMedia(f"impossible box size {size} for {kind!r}")
        if pos + size > len(data):
            raise TruncatedMedia(f"box {kind!r} needs {size} bytes, {len(data) - pos} left")
        pos += size
    if pos != len(data):
        raise TruncatedMedia("cut inside a box header")
