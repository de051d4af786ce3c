"""Malformed recordings through the real upload route: each gets its own clear error, nothing is queued."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import ManualQueue, assert_error
from tests.api.support import IN_WINDOW, load_demo_registry


def _encode(frames: np.ndarray, container: str = "webm", fps: float = 15.0, codec: str | None = None) -> bytes:
    import io

    import av

    from pensioncert.media.encode import encode_video

    if codec is None:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            return encode_video(Path(folder) / f"v.{container}", frames, fps, container=container).read_bytes()  # type: ignore[arg-type]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=container) as out:
        stream: Any = out.add_stream(codec, rate=int(fps))
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def good_webm() -> bytes:
    rng = np.random.default_rng(0)
    return _encode(rng.integers(0, 255, (60, 120, 160, 3), dtype=np.uint8))


@pytest.fixture
def upload(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """``upload(data, content_type)``: post ``data`` for a fresh challenge of an identified session."""
    from pensioncert.api.app import create_app
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_SECURITY__RATE_LIMIT_ENABLED", "false")
    get_settings.cache_clear()
    numbers = load_demo_registry()
    queue = ManualQueue()
    with TestClient(create_app(queue=queue)) as client:
        session_id = client.post("/api/v1/sessions", json={"channel": "alipay"}).json()["id"]
        client.post(f"/api/v1/sessions/{session_id}/identity",
                    json={"name": IN_WINDOW, "id_number": numbers[IN_WINDOW]}).raise_for_status()

        def post(data: bytes, content_type: str = "video/webm", filename: str = "r.webm") -> Any:
            challenge = client.post(f"/api/v1/sessions/{session_id}/challenges")
            assert challenge.status_code == 201, challenge.text
            started = client.post(f"/api/v1/sessions/{session_id}/challenges/{challenge.json()['id']}/start",
                                  json={"timed": True})
            assert started.status_code == 200, started.text
            return client.post(f"/api/v1/sessions/{session_id}/recordings",
                               data={"challenge_id": challenge.json()["id"]},
                               files={"video": (filename, data, content_type)})

        yield post
        assert queue.jobs == []  # no malformed file ever reached a worker


@pytest.mark.parametrize(("make", "status", "code"), [
    (lambda good: b"", 422, "upload.empty"),
    (lambda good: good[: int(len(good) * 0.4)], 422, "media.truncated"),
    (lambda good: good[:200], 422, "media.corrupt"),
    (lambda good: b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 40, 422, "media.corrupt"),
    (lambda good: b"GIF89a" + bytes(2000), 415, "upload.unsupported_type"),
    (lambda good: b"\x00\x00\x00\x18ftypmp42" + bytes(4000), 422, "media.corrupt"),
], ids=["zero-length", "truncated", "header-only", "garbage-ebml", "gif-as-video", "empty-mp4-box"])
def test_malformed_recordings_get_clear_errors(upload: Callable[..., Any], good_webm: bytes,
                                               make: Callable[[bytes], bytes], status: int, code: str) -> None:
    assert_error(upload(make(good_webm)), status, code)


def test_wrong_codec_is_named(upload: Callable[..., Any]) -> None:
    frames = np.zeros((8, 64, 64, 3), dtype=np.uint8)
    assert_error(upload(_encode(frames, "mp4", codec="mpeg4"), "video/mp4", "r.mp4"), 422, "media.unsupported_codec")


def test_enormous_dimensions_are_refused_from_the_header(upload: Callable[..., Any]) -> None:
    frames = np.full((1, 2000, 4000, 3), 128, dtype=np.uint8)  # 4000 px wide: past any phone camera
    assert_error(upload(_encode(frames, fps=1.0)), 413, "media.dimensions_too_large")


def test_a_label_that_lies_is_refused(upload: Callable[..., Any], good_webm: bytes) -> None:
    assert_error(upload(good_webm, "image/png"), 415, "upload.unsupported_type")
    assert_error(upload(b"\x89PNG\r\n\x1a\n" + bytes(100), "video/webm"), 415, "upload.unsupported_type")
