"""Case and policy to and from JSON, so an assessment can be stored and re-run exactly."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal

from . import rules


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def case_to_json(case: rules.Case) -> dict:
    return _stringify(asdict(case))


def _stringify(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _stringify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_stringify(v) for v in value]
    return value


def case_from_json(data: dict) -> rules.Case:
    members = tuple(
        rules.Person(
            **{
                **m,
                "incomes": tuple(
                    rules.Income(i["type"], Decimal(i["monthly_amount"])) for i in m["incomes"]
                ),
            }
        )
        for m in data["members"]
    )
    assets = tuple(
        rules.Asset(
            a["type"],
            Decimal(a["value"]),
            _dec(a["area"]),
            a["count"],
            _date(a.get("built_or_bought_on")),
            a.get("luxury_renovation", False),
            a.get("exempt_reason", ""),
        )
        for a in data["assets"]
    )
    hardship = data.get("hardship")
    return rules.Case(
        programme=data["programme"],
        residence=data["residence"],
        as_of=dt.date.fromisoformat(data["as_of"]),
        members=members,
        assets=assets,
        hardship=rules.Hardship(
            hardship["type"], hardship["applicant_class"], _dec(hardship["expense"])
        )
        if hardship
        else None,
        rigid_spending_12m=_dec(data.get("rigid_spending_12m")),
        non_essential_purchases_6m=_dec(data.get("non_essential_purchases_6m")),
        district_code=data.get("district_code", ""),
        expenditures=tuple(
            rules.Expenditure(e["type"], Decimal(e["annual_amount"]))
            for e in data.get("expenditures", ())
        ),
        employs_others=data.get("employs_others", False),
        single_member=data.get("single_member", ""),
    )


def _date(value) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def policy_to_json(policy: rules.Policy, sources: dict) -> dict:
    return {
        "values": {k: str(v) for k, v in policy.values.items()},
        "temporary_rates": {k: str(v) for k, v in policy.temporary_rates.items()},
        "sources": sources,
    }


def policy_from_json(data: dict) -> rules.Policy:
    return rules.Policy(
        values={k: Decimal(v) for k, v in data["values"].items()},
        temporary_rates={k: Decimal(v) for k, v in data["temporary_rates"].items()},
    )
