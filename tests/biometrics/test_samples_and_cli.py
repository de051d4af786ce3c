from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from pensioncert import biometrics


def test_sample_photos_are_real_loadable_faces() -> None:
    photos = biometrics.sample_photos()
    names = {p.name for p in photos}
    assert {"astronaut", "grace_hopper"} <= names  # always installed (scikit-image, matplotlib)
    for photo in photos:
        image = photo.load()
        assert image.dtype == np.uint8 and image.ndim == 3
        assert biometrics.detect_faces(image), photo.name
    assert len({p.person for p in photos}) >= 2


def test_cli_compare_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import cv2

    from pensioncert.cli.main import app

    paths = []
    for name in ("astronaut", "grace_hopper"):
        image = next(p for p in biometrics.sample_photos() if p.name == name).load()
        path = tmp_path / f"{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        paths.append(str(path))
    result = CliRunner().invoke(app, ["faces", "compare", *paths, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["same_person"] is False and payload["distance"] > payload["threshold"]
    assert set(payload["quality"]) == {"a", "b"}


def test_cli_compare_reports_an_unreadable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from pensioncert.cli.main import app

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    result = CliRunner().invoke(app, ["faces", "compare", str(bad), str(bad), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout.strip().splitlines()[-1])["error"] == "face.image_unreadable"
