"""Demo registry: realistic retirees in every state, relative to today."""

from __future__ import annotations

from datetime import date

from pensioncert.domain.calendar import add_months
from pensioncert.domain.idnumber import check_character
from pensioncert.storage.repository import RetireeInput


def demo_id_number(region: str, born: date, sequence: int) -> str:
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def demo_retirees(today: date) -> list[RetireeInput]:
    """One retiree per case the seed names, dated so each case holds on ``today``."""

    def person(
        name: str, region: str, born: date, seq: int, *, pension: str = "employee", local: bool = True,
        status: str = "normal", certified_months_ago: int | None = None, first_paid_months_ago: int = 120,
        district: str = "福田区",
    ) -> RetireeInput:
        number = demo_id_number(region, born, seq)
        return RetireeInput(
            id_number=number,
            name=name,
            sex="male" if seq % 2 else "female",
            birth_date=born,
            region_code=region,
            pension_type=pension,
            retired_locally=local,
            status=status,
            first_payment=add_months(today, -first_paid_months_ago),
            last_certified=None if certified_months_ago is None else add_months(today, -certified_months_ago),
            district=district,
            phone="13800000000",
        )

    return [
        person("张伟", "440304", date(1958, 3, 12), 17, certified_months_ago=11),  # in window
        person("王芳", "440303", date(1962, 7, 8), 24, certified_months_ago=11, pension="resident",
               district="罗湖区"),  # in window, residents' pension
        person("李娜", "440305", date(1960, 1, 30), 42, certified_months_ago=4, district="南山区"),  # already done
        person("刘洋", "440306", date(1964, 10, 2), 33, certified_months_ago=None,
               first_paid_months_ago=2, district="宝安区"),  # new retiree: not yet
        person("陈静", "440307", date(1955, 5, 21), 58, certified_months_ago=14, status="suspended",
               district="龙岗区"),  # overdue and suspended
        person("杨军", "440304", date(1957, 12, 5), 71, status="info_abnormal", certified_months_ago=11),
        person("赵敏", "110105", date(1959, 4, 17), 86, local=False, certified_months_ago=11,
               district=""),  # retired elsewhere: out of scope
        person("黄强", "440303", date(1940, 2, 29), 95, status="terminated", certified_months_ago=20,
               district="罗湖区"),
        person("周秀英", "440308", date(1948, 9, 9), 102, certified_months_ago=13, district="盐田区"),  # overdue
        person("吴建国", "440309", date(1951, 11, 11), 113, certified_months_ago=10, district="龙华区"),
    ]
