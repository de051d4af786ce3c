"""Encrypted files for biometric media (recordings, best frames, reference photos).

Raw media is the most sensitive thing we hold: it is written only encrypted,
named by a random identifier (never by ID number), and deleted by the retention
job once the decision is made and the retention period has passed.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from pensioncert.storage.crypto import Protector


class MediaNotFound(FileNotFoundError):
    """The media was deleted by retention or never existed."""


@dataclass(frozen=True)
class MediaStore:
    root: Path
    protector: Protector

    def put(self, data: bytes, kind: str) -> str:
        """Store ``data`` encrypted; return its relative key. Written atomically (temp file + rename)."""
        key = f"{kind}/{uuid.uuid4().hex}.bin"
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(self.protector.encrypt(data, key.encode()))
        os.replace(temporary, path)
        return key

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise MediaNotFound(key)
        return self.protector.decrypt(path.read_bytes(), key.encode())

    def delete(self, key: str) -> bool:
        """Delete ``key``; True if something was deleted."""
        path = self._path(key)
        if path.is_file():
            path.unlink()
            return True
        return False

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise MediaNotFound(key)  # refuse keys that escape the store
        return path


def media_store_from_settings() -> MediaStore:
    from pensioncert.settings import get_settings
    from pensioncert.storage.crypto import protector_from_settings

    return MediaStore(get_settings().data_dir / "media", protector_from_settings())
