from pathlib import Path

import pytest

from pensioncert.storage.crypto import Protector
from pensioncert.storage.media_store import MediaNotFound, MediaStore


def test_media_is_encrypted_and_round_trips(tmp_path: Path, protector: Protector) -> None:
    store = MediaStore(tmp_path, protector)
    key = store.put(b"\x00\x01 a recording", "recordings")
    on_disk = (tmp_path / key).read_bytes()
    assert b"a recording" not in on_disk
    assert store.get(key) == b"\x00\x01 a recording"
    assert store.delete(key) and not store.delete(key)
    with pytest.raises(MediaNotFound):
        store.get(key)


def test_keys_cannot_escape_the_store(tmp_path: Path, protector: Protector) -> None:
    (tmp_path / "secret.txt").write_text("x")
    store = MediaStore(tmp_path / "media", protector)
    with pytest.raises(MediaNotFound):
        store.get("../secret.txt")
