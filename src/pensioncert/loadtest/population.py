"""Synthetic retirees for the load test and the scale tests: eligible today, with a registry photo."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from numpy.typing import NDArray

from pensioncert.certification.demo_data import demo_id_number
from pensioncert.domain.calendar import add_months
from pensioncert.storage.crypto import Protector
from pensioncert.storage.db import Database
from pensioncert.storage.models import Retiree
from pensioncert.storage.repository import RetireeInput, find_retiree, upsert_retiree


@dataclass(frozen=True)
class Person:
    """What a phone user types to identify: name and ID number."""

    name: str
    id_number: str
    born: date


def png_bytes(rgb: NDArray[np.uint8]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def person(index: int) -> Person:
    """The ``index``-th synthetic retiree: a valid, unique Shenzhen ID number (1000 per birth date)."""
    born = date(1950, 1, 1) + timedelta(days=index // 1000)
    return Person(f"测试{index:06d}", demo_id_number("440304", born, index % 1000), born)


def make_retirees(database: Database, protector: Protector, count: int, today: date,
                  reference_png: bytes | None, start: int = 0) -> list[Person]:
    """Insert ``count`` retirees in their certification window (certified 11 months ago).

    They share one reference photo ciphertext (same plaintext and context: the copy is as safe
    as the original), which keeps seeding thousands of them to a few seconds.
    """
    sealed = protector.encrypt(reference_png, b"reference_photo") if reference_png is not None else None
    people = [person(start + i) for i in range(count)]
    with database.session() as session:
        for index, someone in enumerate(people):
            upsert_retiree(session, protector, RetireeInput(
                id_number=someone.id_number, name=someone.name, sex="male" if index % 2 else "female",
                birth_date=someone.born, region_code="440304", pension_type="employee",
                retired_locally=True, status="normal", first_payment=add_months(today, -120),
                last_certified=add_months(today, -11), district="福田区", phone="13800000000",
            ))
        session.flush()
        if sealed is not None:
            for someone in people:
                retiree = find_retiree(session, protector, someone.id_number)
                assert isinstance(retiree, Retiree)
                retiree.reference_photo_encrypted = sealed
    return people
