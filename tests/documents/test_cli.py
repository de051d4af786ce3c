"""The ``ocr idcard``, ``eval ocr`` and ``bench ocr`` commands, end to end on generated cards."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pensioncert.cli.main import app
from pensioncert.documents.cardgen import generate_card

runner = CliRunner()


def test_idcard_json_and_table(tmp_path: Path) -> None:
    card = generate_card(41, "front")
    photo = tmp_path / "front.jpg"
    photo.write_bytes(card.jpeg())
    portrait = tmp_path / "portrait.png"
    result = runner.invoke(app, ["ocr", "idcard", str(photo), "--json", "--side", "back", "--portrait", str(portrait)])
    assert result.exit_code == 1, result.output  # the wrong side was uploaded
    data = json.loads(result.output)
    assert data["side"] == "front"
    assert data["fields"] == card.truth
    assert data["problems"] == ["ocr.wrong_side"]
    assert "国徽" in data["messages"]["ocr.wrong_side"]
    assert portrait.stat().st_size > 1000

    table = runner.invoke(app, ["ocr", "idcard", str(photo), "--lang", "en"])
    assert table.exit_code == 0, table.output
    assert card.identity.id_number in table.output


def test_idcard_rejects_bad_arguments(tmp_path: Path) -> None:
    assert runner.invoke(app, ["ocr", "idcard", str(tmp_path / "missing.jpg")]).exit_code == 2
    (tmp_path / "x.jpg").write_bytes(b"x")
    assert runner.invoke(app, ["ocr", "idcard", str(tmp_path / "x.jpg"), "--side", "top"]).exit_code == 2


def test_eval_and_bench_print_figures() -> None:
    result = runner.invoke(app, ["eval", "ocr", "--clean", "1", "--distorted", "1", "--problems", "0", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["sides"] == {"clean": 1, "distorted": 1}
    assert data["bad_checksum_returned"] == 0
    assert set(data["field_accuracy"]["clean"]) >= {"name", "id_number", "valid_until"}
    assert {"median", "p95", "ratio_to_decode"} <= set(data["ms_per_side"])

    bench = runner.invoke(app, ["bench", "ocr", "--sides", "2", "--json"])
    assert bench.exit_code == 0, bench.output
    timing = json.loads(bench.output[bench.output.index("{"):])
    assert set(timing["per_side"]) == {"front", "back"}
    assert {"median_ms", "max_ms", "ratio_to_decode"} <= set(timing["per_side"]["front"])
