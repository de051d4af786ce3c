"""Named errors of the face engine. Each carries a message code from ``face.toml``."""

from __future__ import annotations

from pensioncert.errors import CodedError


class FaceEngineError(CodedError):
    """Base class: ``code`` is a stable message code that APIs return and users read."""

    code = "face.error"


class ImageUnreadable(FaceEngineError):
    """The bytes or file are not an image we can decode (corrupt, empty, not a picture)."""

    code = "face.image_unreadable"


class ImageUnsuitable(FaceEngineError):
    """The image decodes but cannot hold a usable face (too small, degenerate shape)."""

    code = "face.image_unsuitable"


class NoFaceFound(FaceEngineError):
    """An embedding was asked for an image in which no face was found."""

    code = "face.no_face"
