"""Property and spending that exclude a household (Chongqing 2013, DESIGN.md §5): deposits,
houses, shopfronts, vehicles, ships, machinery, a company; recent house purchases or luxury
renovation; non-essential purchases; studying abroad at own cost; employing others."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .inputs import Case
from .values import ZERO, Finding, Policy, money


def deposits_rule(case: Case, policy: Policy, size: int, standard: Decimal) -> list[Finding]:
    held = sum((a.value for a in case.assets if a.type in ("deposit", "securities")), ZERO)
    limit = size * standard * policy.get("deposit_months")
    if held > limit:
        return [
            Finding(
                "deposits_over_limit",
                True,
                _(
                    "Deposits and securities of %(held)s yuan exceed the limit of %(limit)s yuan "
                    "(%(size)d members × %(standard)s yuan × %(months)s months)."
                )
                % {
                    "held": money(held),
                    "limit": money(limit),
                    "size": size,
                    "standard": money(standard),
                    "months": policy.get("deposit_months").normalize(),
                },
            )
        ]
    return []


def houses_rule(case: Case, policy: Policy, size: int) -> list[Finding]:
    houses = [a for a in case.assets if a.type == "house"]
    count = sum(a.count for a in houses)
    area = sum((a.area or ZERO for a in houses), ZERO)
    per_capita = area / size if size else area
    limit = policy.get("housing_area_limit")
    if count >= 2 and per_capita > limit:
        return [
            Finding(
                "houses_over_limit",
                True,
                _(
                    "The household owns %(count)d houses with %(area)s m² per person, above "
                    "%(limit)s m² per person."
                )
                % {"count": count, "area": money(per_capita), "limit": limit},
            )
        ]
    return []


_EXCLUDING_ASSETS = {
    "shopfront": ("shopfront_owned", gettext_noop("The household owns a shopfront.")),
    "vehicle": (
        "vehicle_owned",
        gettext_noop("The household owns a motor vehicle (other than a disability vehicle)."),
    ),
    "ship": ("ship_owned", gettext_noop("The household owns a ship or boat.")),
    "company": ("company_registered", gettext_noop("A member has a registered company.")),
    "machinery": ("machinery_owned", gettext_noop("The household owns large machinery.")),
}


def excluding_assets_rule(case: Case) -> list[Finding]:
    findings = []
    for asset_type, (code, message) in _EXCLUDING_ASSETS.items():
        if any(a.type == asset_type for a in case.assets):
            findings.append(Finding(code, True, _(message)))
    if any(a.type == "disability_vehicle" for a in case.assets):
        findings.append(
            Finding(
                "disability_vehicle_exempt",
                False,
                _("A disability vehicle does not count against the household."),
            )
        )
    return findings


def purchases_rule(case: Case, policy: Policy, size: int, standard: Decimal) -> list[Finding]:
    """Non-essential purchases within six months above size × standard × 5 exclude."""
    spent = case.non_essential_purchases_6m
    if spent is None:
        return []
    limit = size * standard * policy.get("purchase_months")
    if spent >= limit:  # "≥ size × standard × 5" (重庆 2013)
        return [
            Finding(
                "purchases_over_limit",
                True,
                _(
                    "Non-essential purchases of %(spent)s yuan in six months reach the limit of "
                    "%(limit)s yuan."
                )
                % {"spent": money(spent), "limit": money(limit)},
            )
        ]
    return []


def recent_house_rule(case: Case, policy: Policy) -> list[Finding]:
    """Building or buying a house, or renovating one luxuriously, within the policy number of
    years (3) excludes, unless it was rebuilding after a disaster or a relocation."""
    years = int(policy.get("house_purchase_years"))
    since = _years_before(case.as_of, years)
    findings = []
    for house in (a for a in case.assets if a.type == "house" and not a.exempt_reason):
        if house.built_or_bought_on is not None and house.built_or_bought_on > since:
            findings.append(
                Finding(
                    "house_recently_acquired",
                    True,
                    _(
                        "A house was built or bought on %(day)s, within %(years)d years "
                        "(not after a disaster or a relocation)."
                    )
                    % {"day": house.built_or_bought_on.isoformat(), "years": years},
                )
            )
        if house.luxury_renovation:
            findings.append(
                Finding(
                    "luxury_renovation",
                    True,
                    _("A house was renovated luxuriously within %(years)d years.")
                    % {"years": years},
                )
            )
    return findings


def conduct_rule(case: Case) -> list[Finding]:
    """Spending that shows means: a member studying abroad at the family's own cost, or the
    household employing others."""
    findings = []
    abroad = [m for m in case.members if m.studying_abroad_self_funded]
    if abroad:
        findings.append(
            Finding(
                "studying_abroad",
                True,
                _("%(n)d member(s) study abroad at the family's own cost.") % {"n": len(abroad)},
            )
        )
    if case.employs_others:
        findings.append(Finding("employs_others", True, _("The household employs other people.")))
    return findings


def property_findings(case: Case, policy: Policy, size: int, standard: Decimal):
    return (
        deposits_rule(case, policy, size, standard)
        + houses_rule(case, policy, size)
        + recent_house_rule(case, policy)
        + excluding_assets_rule(case)
        + purchases_rule(case, policy, size, standard)
        + conduct_rule(case)
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
