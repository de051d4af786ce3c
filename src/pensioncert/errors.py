"""The one base class of errors a user or operator may be shown.

``code`` is a stable message-catalogue key (APIs return it, tests assert on it);
``params`` fill the message's fields; ``detail`` is for logs only. Families of
errors set ``code`` as a class attribute (``class UploadTooLarge(MediaError)``),
others pass it per instance (``InvalidIdNumber("id.bad_checksum")``).
"""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    code: str = "error"

    def __init__(self, detail: str = "", *, code: str | None = None, **params: Any) -> None:
        if code is not None:
            self.code = code
        super().__init__(detail or self.code)
        self.detail = detail
        self.params = params
