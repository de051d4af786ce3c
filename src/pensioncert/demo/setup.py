"""Load the demo registry into the configured database."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pensioncert.admin.demo import ensure_demo_staff
from pensioncert.certification.demo_data import demo_retirees
from pensioncert.certification.service import eligibility_for
from pensioncert.jobs.overdue import suspend_overdue
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import protector_from_settings
from pensioncert.storage.db import get_database
from pensioncert.storage.repository import find_retiree, upsert_retiree


def load_demo(today: date) -> list[tuple[str, str, str]]:
    """Upsert the demo retirees; return (name, full ID number, decision code) for the console."""
    database = get_database()
    protector = protector_from_settings()
    rows = demo_retirees(today)
    summary: list[tuple[str, str, str]] = []
    with database.session() as session:
        for row in rows:
            upsert_retiree(session, protector, row)
        session.flush()
        suspend_overdue(session, today, get_settings().cycle)
        ensure_demo_staff(session)  # back office: one account per role (docs/admin.md)
        for row in rows:
            decision = eligibility_for(find_retiree(session, protector, row.id_number), today)
            summary.append((row.name, row.id_number, decision.code.value))
    return summary


def write_demo_cards(out_dir: Path, today: date, portrait: Path | None = None) -> list[Path]:
    """Photos of the demo retirees' ID cards (front and back) for trying the WeChat and city-app scans.

    With ``portrait`` (a photo of whoever will stand in front of the webcam) the card's
    portrait is that face, so the face comparison of the WeChat flow can pass; otherwise a
    sample face is printed and only a matching face (e.g. the synthetic subject) passes.
    """
    from pensioncert.documents import cardgen
    from pensioncert.synth import load_photo

    photo = load_photo(portrait) if portrait is not None else None
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for seed, row in enumerate(demo_retirees(today)):
        identity = cardgen.Identity(
            name=row.name, sex="male" if row.sex == "male" else "female", ethnicity="汉",
            birth_date=row.birth_date, address=f"深圳市{row.district or '福田区'}福华路{100 + seed}号",
            id_number=row.id_number, authority="深圳市公安局", valid_from=date(2015, 6, 1), valid_until=None,
        )
        for side in ("front", "back"):
            card = cardgen.generate_card(seed, side, identity=identity, portrait=photo)
            path = out_dir / f"{row.id_number}-{side}.jpg"
            path.write_bytes(card.jpeg())
            written.append(path)
    return written
