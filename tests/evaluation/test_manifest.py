"""``pensioncert pilot check``: a manifest's row errors, and exit 1 when there is any."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from pensioncert.cli.main import app
from pensioncert.evaluation.pilot.manifest import load_manifest, write_manifest

CHALLENGE = "actions:blink@1.2,turn_left@3.0"


def _pilot(tmp_path: Path, rows: list[dict[str, str]]) -> Path:
    (tmp_path / "a.webm").write_bytes(b"\x1a\x45\xdf\xa3 not decoded by check")
    for name in ("b.webm", "c.webm", "d.webm"):
        (tmp_path / name).write_bytes(b"\x1a\x45\xdf\xa3")
    (tmp_path / "ref.png").write_bytes(b"\x89PNG")
    return write_manifest(tmp_path / "manifest.csv", rows)


def _row(**values: str) -> dict[str, str]:
    return {"file": "a.webm", "kind": "genuine", "challenge": CHALLENGE, "reference": "ref.png", "age_band": "70-79",
            **values}


def test_a_good_manifest_passes_the_check(tmp_path: Path) -> None:
    manifest = _pilot(tmp_path, [_row(), _row(file="b.webm", kind="print", subject="R1")])
    loaded = load_manifest(manifest)
    assert loaded.ok and [r.kind for r in loaded.rows] == ["genuine", "print"]
    assert loaded.rows[0].channel == "cityapp" and loaded.rows[0].subgroups["age_band"] == "70-79"
    result = CliRunner().invoke(app, ["pilot", "check", str(manifest)])
    assert result.exit_code == 0, result.output


def test_missing_file_unknown_species_and_duplicates_are_row_errors(tmp_path: Path) -> None:
    manifest = _pilot(tmp_path, [
        _row(),                                              # line 2: fine
        _row(file="gone.webm"),                              # line 3: missing file
        _row(file="b.webm", kind="cardboard_cutout"),        # line 4: unknown species
        _row(),                                              # line 5: a.webm again
        _row(file="c.webm", challenge="actions:blink"),      # line 6: no schedule
        _row(file="d.webm", reference="nobody.png", language="fr"),  # line 7: two problems
    ])
    loaded = load_manifest(manifest)
    assert not loaded.ok and [r.line for r in loaded.rows] == [2]
    assert [(e.line, e.code) for e in loaded.errors] == [
        (3, "pilot.missing_file"), (4, "pilot.unknown_species"), (5, "pilot.duplicate_file"),
        (6, "pilot.bad_challenge"), (7, "pilot.missing_reference"), (7, "pilot.bad_language")]
    result = CliRunner().invoke(app, ["pilot", "check", str(manifest)])
    assert result.exit_code == 1
    assert "Line 3" in result.output and "gone.webm" in result.output and "cardboard_cutout" in result.output


def test_missing_columns_and_empty_manifests_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("file,kind\na.webm,genuine\n", encoding="utf-8")
    assert [e.code for e in load_manifest(bad).errors] == ["pilot.missing_columns"]
    empty = tmp_path / "empty.csv"
    empty.write_text("file,kind,challenge,reference\n", encoding="utf-8")
    assert [e.code for e in load_manifest(empty).errors] == ["pilot.empty"]
    assert CliRunner().invoke(app, ["pilot", "check", str(empty)]).exit_code == 1
