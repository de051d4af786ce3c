"""The pilot manifest: one row per recording, validated before anything runs.

A CSV (UTF-8 or GBK) or XLSX with a header row. Required columns: ``file`` (the recording,
relative to the manifest's folder), ``kind`` (``genuine`` or an attack species),
``challenge`` (the challenge it answered with its schedule, in the CLI spelling
``actions:blink@1.2,turn_left@3.0`` or ``digits:5821@0.5,1.5,2.6,3.4``) and ``reference``
(the reference photo). Optional: ``language`` (zh, the default, or en), ``channel``
(wechat, alipay, cityapp; default from the challenge), ``subject`` (volunteer or red-team
member: keeps one person on one side of the held-out split), and the subgroup columns
``age_band``, ``sex``, ``phone_model``, ``lighting``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pensioncert.liveness.challenges import ChallengeError, parse_challenge
from pensioncert.registry.tables import TableFileError, read_table

# Attack species (ISO/IEC 30107-3 reports APCER per species). The red team names its attacks
# with these; ``other`` is for anything else (described in the pilot's notes).
SPECIES = ("print", "screen_replay", "mask", "video_replay", "other_person", "deepfake", "splice", "injection",
           "other")
# Species whose face is another person's: their face distances are the impostor pairs (FMR, DET).
IMPOSTOR_SPECIES = ("other_person",)
REQUIRED = ("file", "kind", "challenge", "reference")
SUBGROUPS = ("age_band", "sex", "channel", "phone_model", "lighting")
OPTIONAL = ("language", "channel", "subject", "age_band", "sex", "phone_model", "lighting")
CHANNELS = ("wechat", "alipay", "cityapp")


@dataclass(frozen=True)
class PilotRow:
    """One recording of the pilot, its files resolved against the manifest's folder."""

    line: int
    file: Path
    kind: str
    challenge: str
    reference: Path
    language: str = "zh"
    channel: str = ""
    subject: str = ""
    subgroups: dict[str, str] = field(default_factory=dict)

    @property
    def is_attack(self) -> bool:
        return self.kind != "genuine"


@dataclass(frozen=True)
class ManifestError:
    """A problem with one row (``line`` 0: the file as a whole); ``code`` is in pilot.toml/registry.toml."""

    line: int
    code: str
    column: str = ""
    value: str = ""

    def text(self, language: str = "en") -> str:
        from pensioncert.messages import text

        params = {"line": self.line, "column": self.column, "value": self.value, "columns": self.value,
                  "known": ", ".join(SPECIES)}
        return text(self.code, language, **params)


@dataclass
class Manifest:
    rows: list[PilotRow]
    errors: list[ManifestError]
    total: int  # data rows in the file, good or bad

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def load_manifest(path: str | Path) -> Manifest:
    """Read and validate ``path``; every row problem is reported, none stops the others."""
    path = Path(path)
    try:
        table = read_table(path.read_bytes(), path.name)
    except TableFileError as bad:
        return Manifest([], [ManifestError(0, bad.code, value=str(bad.params.get("suffix", "")))], 0)
    return validate(table, path.parent)


def validate(table: Sequence[tuple[int, list[str]]], base: Path) -> Manifest:
    """Rows of a read table (header first) checked against the files under ``base``."""
    table = [(n, cells) for n, cells in table if any(c.strip() for c in cells)]
    if not table:
        return Manifest([], [ManifestError(0, "pilot.empty")], 0)
    header = [c.strip().lower() for c in table[0][1]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return Manifest([], [ManifestError(table[0][0], "pilot.missing_columns", value=", ".join(missing))],
                        len(table) - 1)
    rows: list[PilotRow] = []
    errors: list[ManifestError] = []
    seen: dict[Path, int] = {}
    for line, cells in table[1:]:
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        problems: list[ManifestError] = []
        for column in REQUIRED:
            if not record.get(column):
                problems.append(ManifestError(line, "pilot.missing_value", column))
        if problems:
            errors.extend(problems)
            continue
        file = (base / record["file"]).resolve()
        reference = (base / record["reference"]).resolve()
        kind = record["kind"].lower()
        language = (record.get("language") or "zh").lower()
        channel = (record.get("channel") or "").lower()
        if not file.is_file():
            problems.append(ManifestError(line, "pilot.missing_file", "file", record["file"]))
        elif file in seen:
            problems.append(ManifestError(line, "pilot.duplicate_file", "file", record["file"]))
        if not reference.is_file():
            problems.append(ManifestError(line, "pilot.missing_reference", "reference", record["reference"]))
        if kind != "genuine" and kind not in SPECIES:
            problems.append(ManifestError(line, "pilot.unknown_species", "kind", record["kind"]))
        if language not in ("zh", "en"):
            problems.append(ManifestError(line, "pilot.bad_language", "language", language))
        elif not _challenge_ok(record["challenge"], language):
            problems.append(ManifestError(line, "pilot.bad_challenge", "challenge", record["challenge"]))
        if channel and channel not in CHANNELS:
            problems.append(ManifestError(line, "pilot.bad_channel", "channel", channel))
        seen.setdefault(file, line)
        if problems:
            errors.extend(problems)
            continue
        if not channel:
            channel = "wechat" if record["challenge"].lower().startswith("digits") else "cityapp"
        subgroups = {k: record.get(k, "") for k in SUBGROUPS if k != "channel"} | {"channel": channel}
        rows.append(PilotRow(line, file, kind, record["challenge"], reference, language, channel,
                             record.get("subject") or reference.name, subgroups))
    if not rows and not errors:
        errors.append(ManifestError(0, "pilot.empty"))
    return Manifest(rows, errors, len(table) - 1)


def _challenge_ok(spec: str, language: str) -> bool:
    """A timed challenge in the CLI spelling (the pilot records what the page showed, schedule included)."""
    try:
        challenge = parse_challenge(spec, language=language)
    except ChallengeError:
        return False
    return challenge.timed


def write_manifest(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    """Write rows (dicts keyed by column) as a UTF-8 CSV manifest with the standard columns."""
    import csv

    columns = [*REQUIRED, *OPTIONAL]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path
