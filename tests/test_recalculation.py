"""The new-standard recalculation (DESIGN.md §7), set-based: the same amounts, components and
reviews as the per-household means test (``household_case`` + ``assessment_preview``) on a
randomised city, applied atomically per district, and never read half-done by a payroll."""

from __future__ import annotations

import datetime as dt
import random
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from beneficiaries.models import (
    Asset,
    Entitlement,
    EntitlementChange,
    Expenditure,
    IncomeItem,
    JobReferral,
    Member,
)
from core.months import add_months, next_month
from core.services import calendar_seed_from_package
from eligibility import rules
from eligibility.models import PolicyValue
from eligibility.selectors import HouseholdCases, household_case, policy_for
from eligibility.services import assessment_preview
from recertification import recalculation
from recertification.models import Review
from recertification.selectors import OPEN_REVIEW

from .factories import make_household, make_id, member_data

MONTH = next_month(timezone.localdate())  # the new standard applies from here
LATER = add_months(MONTH, 1)
PAST = dt.date(2026, 1, 1)
WANZHOU = "500101"
# In force on the month, ended before it, starting after it.
PERIODS = [
    {},
    {},
    {"period_start": PAST},
    {"period_start": PAST, "period_end": LATER},
    {"period_start": PAST, "period_end": add_months(MONTH, -1) + dt.timedelta(days=27)},
    {"period_start": LATER},
]


@pytest.fixture(autouse=True)
def _calendar(db):
    calendar_seed_from_package()


def standard(kind, value, month=MONTH, residence="", district=""):
    PolicyValue.objects.create(
        kind=kind,
        residence=residence,
        district_code=district,
        value=Decimal(value),
        effective_from=month,
        source="测试:新标准",
    )


def new_standards():
    """Raised standards from ``MONTH``, a district's own figures, and a second rise a month
    later (so entitlements that start later are assessed on other figures)."""
    standard("dibao_standard", "560", residence="urban")
    standard("dibao_standard", "420", residence="rural")
    standard("dibao_standard", "580", residence="urban", district=WANZHOU)
    standard("dibao_standard", "430", month=LATER, residence="rural")
    standard("dibao_minimum_payment", "30")
    standard("dibao_deduct_rigid", "1", district=WANZHOU)
    standard("tekun_basic", "700")
    standard("tekun_nursing_partial", "100")


# --- a randomised city ----------------------------------------------------------------------


class City:
    """Households with varied members, income, property, spending and job referrals, and
    their entitlements (household 低保, 单人保, 特困, 支出型) with varied timelines, in two
    districts; the same for a given seed."""

    def __init__(self, cast, tree, seed: int, households: int):
        self.rng = random.Random(seed)
        self.cast, self.tree = cast, tree
        self.ids: set[str] = set()
        self.places = [
            (cast["clerk"], tree.village),
            (cast["clerk"], tree.other_village),
            (cast["clerk_other"], tree.wanzhou_village),
        ]
        self.entitlements = [e for _home in range(households) for e in self.household()]

    def id_number(self, birth: dt.date) -> str:
        while True:
            number = make_id(birth=f"{birth:%Y%m%d}", seq=self.rng.randint(1, 999))
            if number not in self.ids:
                self.ids.add(number)
                return number

    def birth(self, head=False) -> dt.date:
        ranges = [(1967, 2008), (1930, 1966)] + ([] if head else [(2011, 2022)])
        years = self.rng.choice(ranges)
        return dt.date(self.rng.randint(*years), self.rng.randint(1, 12), self.rng.randint(1, 28))

    def household(self) -> list[Entitlement]:
        rng = self.rng
        actor, village = rng.choice(self.places)
        size = rng.choice([1, 1, 2, 2, 3, 3, 4, 5])
        relations = ["head", "spouse", "child", "child", "parent"]
        home = make_household(
            actor,
            village,
            members=[
                member_data(
                    f"成员{i}",
                    relation=relations[i],
                    id_number=self.id_number(self.birth(head=not i)),
                )
                for i in range(size)
            ],
            residence_type=rng.choice(["urban", "rural"]),
        )
        if rng.random() < 0.04:
            type(home).objects.filter(pk=home.pk).update(employs_others=True)
        members = list(home.members.order_by("id"))
        for member in members:
            self.circumstances(member)
        self.property(home)
        return self.entitle(home, members)

    def circumstances(self, member: Member) -> None:
        """Written straight to the row: any state the database accepts is a fair input."""
        rng = self.rng
        values: dict = {}
        if rng.random() < 0.25:
            kind = rng.choice(["physical", "visual", "intellectual", "mental", "hearing"])
            values.update(disability_type=kind, disability_grade=rng.randint(1, 4))
        if rng.random() < 0.1:
            values["serious_illness"] = True
        if rng.random() < 0.15:
            values["labour_capacity"] = rng.choice(["none", "partial", "full"])
        if rng.random() < 0.15:
            reason = rng.choice(["study", "work", "prison", "missing", "other"])
            values.update(lives_with_household=False, absence_reason=reason)
            if reason == "other":
                values["absence_counted"] = rng.choice([True, False, None])
        if rng.random() < 0.15:
            values["self_care"] = rng.choice(["partial", "none"])
        values["employment"] = rng.choice(["", "employed", "unemployed", "retired", "farming"])
        values["works_without_income_proof"] = rng.random() < 0.05
        values["studying_abroad_self_funded"] = rng.random() < 0.02
        Member.objects.filter(pk=member.pk).update(**values)
        for _item in range(rng.choice([0, 0, 1, 1, 2])):
            IncomeItem.objects.create(
                member=member,
                type=rng.choice(IncomeItem.Type.values),
                monthly_amount=Decimal(rng.randint(0, 150_000)) / 100,
                source="declared",
                **rng.choice(PERIODS),
            )
        if rng.random() < 0.12:
            outcomes = ["refused", "refused", "refused", "justified", "pending", "accepted"]
            for day in range(rng.randint(2, 4)):
                JobReferral.objects.create(
                    member=member,
                    offered_on=PAST + dt.timedelta(days=30 * day),
                    job="保洁",
                    outcome=rng.choice(outcomes),
                    recorded_by=self.cast["clerk"],
                )

    def property(self, home) -> None:
        rng = self.rng
        if rng.random() < 0.35:
            Asset.objects.create(
                household=home, type="deposit", value=Decimal(rng.randint(0, 4_000_000)) / 100
            )
        if rng.random() < 0.05:
            Asset.objects.create(household=home, type=rng.choice(["vehicle", "disability_vehicle"]))
        if rng.random() < 0.1:
            Asset.objects.create(
                household=home,
                type="house",
                count=rng.choice([1, 2]),
                area=Decimal(rng.randint(30, 200)),
                built_or_bought_on=rng.choice([None, dt.date(2010, 5, 1), dt.date(2025, 3, 1)]),
            )
        for _item in range(rng.choice([0, 0, 0, 1, 2])):
            Expenditure.objects.create(
                household=home,
                type=rng.choice(["medical", "disability_care", "education"]),
                amount_12m=Decimal(rng.randint(0, 3_000_000)) / 100,
                evidenced=rng.random() < 0.7,
            )

    def entitle(self, home, members) -> list[Entitlement]:
        rng = self.rng
        kind = rng.choice(["dibao"] * 5 + ["tekun", "expenditure", "single", "dibao+tekun"])
        made = []
        if kind == "single" and len(members) > 1:
            made.append(self.entitlement(home, "dibao", member=self.marginal(members)))
        else:
            for programme in kind.replace("single", "dibao").split("+"):
                made.append(self.entitlement(home, programme))
        return made

    def marginal(self, members: list[Member]) -> Member:
        """Shape a 低保边缘 family with a severely disabled member (单人保): the others earn
        about 1.25 times the standard per person; the member has no income of their own."""
        alone, *others = self.rng.sample(members, len(members))
        Member.objects.filter(pk=alone.pk).update(
            disability_type="physical",
            disability_grade=1,
            lives_with_household=True,
            absence_reason="",
        )
        IncomeItem.objects.filter(member=alone).delete()
        IncomeItem.objects.create(
            member=others[0],
            type="wage",
            monthly_amount=Decimal(700 * len(members)),
            source="declared",
        )
        return alone

    def entitlement(self, home, programme, member=None) -> Entitlement:
        rng = self.rng
        entitlement = Entitlement.objects.create(
            household=home,
            programme=programme,
            member=member,
            monthly_amount=Decimal(rng.randint(10_000, 150_000)) / 100,
            components=[{"code": "decided", "amount": "0.00"}],
            klass="C",
            start_month=rng.choice([PAST] * 6 + [LATER]),
            next_review=add_months(MONTH, 6),
            status=rng.choice(["active"] * 9 + ["suspended"]),
            source="500103001-2026-00001",
            approved_at=timezone.now(),
            approved_by=User.objects.get(username="district_approver"),
        )
        self.timeline(entitlement)
        return entitlement

    def timeline(self, entitlement) -> None:
        rng, month = self.rng, max(MONTH, entitlement.start_month)
        roll = rng.random()
        if roll < 0.1:  # a review decided a later month
            self.change(entitlement, add_months(month, 2), "review:1")
        elif roll < 0.2:  # a standard entered earlier for a later month
            self.change(entitlement, add_months(month, 1), "standard:old")
        elif roll < 0.3:  # a decision already paid
            self.change(entitlement, PAST.replace(month=6), "review:2")
        elif roll < 0.35:  # already under review
            Review.objects.create(
                entitlement=entitlement,
                township_id=entitlement.household.region.parent_id,
                kind="periodic",
                opened_at=timezone.now(),
                due=month,
            )

    def change(self, entitlement, month, source):
        EntitlementChange.objects.create(
            entitlement=entitlement,
            kind="amount",
            effective_month=month,
            old_value=str(entitlement.monthly_amount),
            new_value=str(Decimal(self.rng.randint(10_000, 150_000)) / 100),
            cause="测试",
            source=source,
        )


# --- the per-household means test: the oracle --------------------------------------------------


def means_test(entitlement: Entitlement) -> rules.Result:
    """The per-household means test of ``entitlement`` under the new standard."""
    case = household_case(
        household=entitlement.household,
        programme=entitlement.programme,
        as_of=max(MONTH, entitlement.start_month),
        single_member=entitlement.member.id_number if entitlement.member_id else "",
    )
    return assessment_preview(case=case)[0]


def expected(entitlement: Entitlement) -> dict:
    """What the recalculation must do to ``entitlement``, from the per-household means test
    and the rules of DESIGN.md §7."""
    entitlement = Entitlement.objects.get(pk=entitlement.pk)
    month = max(MONTH, entitlement.start_month)
    result = means_test(entitlement)
    unchanged = {
        "amount": entitlement.monthly_amount,
        "components": entitlement.components,
        "change": None,
        "review": None,
        "result": result.as_json(),
    }
    reviewing = Review.objects.filter(entitlement=entitlement, status__in=OPEN_REVIEW).exists()
    label = {"month": f"{MONTH:%Y-%m}"}
    if not result.eligible:
        change = _("Not eligible under the standard from %(month)s") % label
        review = None if reviewing else (change, month)
        return {**unchanged, "review": review, "outcome": "not eligible"}
    if entitlement.changes.filter(
        kind="amount", effective_month__gt=month, superseded=False, source__startswith="review:"
    ).exists():
        change = _("A new standard applies from %(month)s: decide the amount from then.") % label
        review = None if reviewing else (change, month)
        return {**unchanged, "review": review, "outcome": "decided later"}
    current = entitlement.amount_for(month) or entitlement.monthly_amount
    if result.monthly_amount == current:
        return {**unchanged, "outcome": "same amount"}
    return {
        **unchanged,
        "amount": result.monthly_amount,
        "components": result.as_json()["components"],
        "change": (month, str(current), str(result.monthly_amount)),
        "outcome": result.components[0][0],
    }


def observed(entitlement: Entitlement) -> dict:
    entitlement = Entitlement.objects.get(pk=entitlement.pk)
    changes = list(entitlement.changes.filter(source=f"standard:{MONTH:%Y-%m}"))
    review = Review.objects.filter(entitlement=entitlement, kind="reported").first()
    return {
        "amount": entitlement.monthly_amount,
        "components": entitlement.components,
        "change": (
            (changes[0].effective_month, changes[0].old_value, changes[0].new_value)
            if changes
            else None
        ),
        "review": (review.reported_change, review.due) if review else None,
        "changes": len(changes),
    }


def test_the_set_based_recalculation_gives_the_means_test_for_every_entitlement(cast, tree):
    city = City(cast, tree, seed=18, households=160)
    new_standards()
    for entitlement in city.rng.sample(city.entitlements, 30):
        # Some already have the new amount (decided meanwhile): nothing to record for them.
        result = means_test(entitlement)
        if result.eligible and not entitlement.changes.exists():
            Entitlement.objects.filter(pk=entitlement.pk).update(
                monthly_amount=result.monthly_amount
            )
    wanted = {e.pk: expected(e) for e in city.entitlements}
    # The inputs read in bulk give the very assessment the per-household read gives.
    cases = HouseholdCases([e.household_id for e in city.entitlements])
    for entitlement in Entitlement.objects.filter(pk__in=wanted).select_related(
        "household__region", "member"
    ):
        home = entitlement.household
        case = cases.case(
            household_id=home.pk,
            residence=home.residence_type,
            region_code=home.region.code,
            employs_others=home.employs_others,
            programme=entitlement.programme,
            as_of=max(MONTH, entitlement.start_month),
            single_member=entitlement.member.id_number if entitlement.member_id else "",
        )
        policy = policy_for(
            as_of=case.as_of,
            residence=case.residence,
            district_code=case.district_code,
            programme=case.programme,
        )[0]
        assert rules.assess(case, policy).as_json() == wanted[entitlement.pk]["result"]
    later_standards = set(
        EntitlementChange.objects.filter(source="standard:old").values_list("id", flat=True)
    )

    counts = recalculation.entitlements_recalculate(MONTH)

    outcomes = [w["outcome"] for w in wanted.values()]
    # The randomised city covers every path (else the comparison below proves little).
    for outcome in (
        "not eligible",
        "decided later",
        "same amount",
        "dibao",
        "tekun_basic",
        "expenditure",
    ):
        assert outcome in outcomes, outcome
    assert any(e.member_id for e in city.entitlements if wanted[e.pk]["outcome"] == "dibao")
    for entitlement in city.entitlements:
        want, got = wanted[entitlement.pk], observed(entitlement)
        assert got["amount"] == want["amount"], (entitlement.pk, want["outcome"])
        assert got["components"] == want["components"], entitlement.pk
        assert got["change"] == want["change"], entitlement.pk
        assert got["review"] == want["review"], entitlement.pk
        assert got["changes"] == (1 if want["change"] else 0)
    assert counts == {
        "checked": len(wanted),
        "changed": sum(1 for w in wanted.values() if w["change"]),
        "reviews": sum(1 for w in wanted.values() if w["review"]),
    }
    # A standard entered earlier for a later month is superseded where an amount was recorded.
    changed = {pk for pk, w in wanted.items() if w["change"]}
    for change in EntitlementChange.objects.filter(pk__in=later_standards):
        assert change.superseded == (change.entitlement_id in changed)
    # What a save() left before: a history row and an audit event per change and review.
    assert Entitlement.history.filter(
        history_type="~", history_change_reason__contains=f"{MONTH:%Y-%m}"
    ).count() == len(changed)
    from core.models import AuditEvent

    events = AuditEvent.objects.filter(object_type="beneficiaries.entitlement", action="update")
    assert events.count() == len(changed)
    sample = events.first()
    assert sample.case_key.startswith("household:") and sample.region_code.startswith("500")
    opened = Review.objects.filter(kind="reported")
    assert Review.history.filter(history_type="+", kind="reported").count() == opened.count()
    created = AuditEvent.objects.filter(object_type="recertification.review", action="create")
    assert set(created.values_list("object_id", flat=True)) >= {str(r.pk) for r in opened}
    # Run again: nothing left to change, no second review.
    again = recalculation.entitlements_recalculate(MONTH)
    assert again == {"checked": len(wanted), "changed": 0, "reviews": 0}


# --- atomic per district ------------------------------------------------------------------------


def two_districts(cast, tree) -> dict[str, list[Entitlement]]:
    """Three households in each district (万州 is recalculated first: its code is lower)."""
    homes = {"yuzhong": [], "wanzhou": []}
    for i in range(3):
        for offset, (name, actor, village) in enumerate(
            (
                ("yuzhong", cast["clerk"], tree.village),
                ("wanzhou", cast["clerk_other"], tree.wanzhou_village),
            )
        ):
            home = make_household(
                actor,
                village,
                members=[member_data(f"户主{i}", id_number=make_id(seq=700 + i * 2 + offset))],
            )
            homes[name].append(
                Entitlement.objects.create(
                    household=home,
                    programme="dibao",
                    monthly_amount=Decimal("500.00"),
                    klass="C",
                    start_month=PAST,
                    next_review=add_months(MONTH, 6),
                    source="500103001-2026-00001",
                    approved_at=timezone.now(),
                    approved_by=cast["district_approver"],
                )
            )
    standard("dibao_standard", "560", residence="urban")
    return homes


def amounts(entitlements) -> set[Decimal]:
    return set(
        Entitlement.objects.filter(pk__in=[e.pk for e in entitlements]).values_list(
            "monthly_amount", flat=True
        )
    )


def test_a_district_that_fails_midway_keeps_all_its_old_amounts(cast, tree, monkeypatch):
    homes = two_districts(cast, tree)
    real, calls = recalculation._open_reviews, []

    def fails_in_the_second_district(run, wanted):
        calls.append(1)
        if len(calls) == 2:  # its changes are written by now, its reviews not yet
            raise RuntimeError("the worker died")
        return real(run, wanted)

    monkeypatch.setattr(recalculation, "_open_reviews", fails_in_the_second_district)
    with pytest.raises(RuntimeError):
        recalculation.entitlements_recalculate(MONTH)
    assert amounts(homes["wanzhou"]) == {Decimal("560.00")}  # finished: wholly new
    assert amounts(homes["yuzhong"]) == {Decimal("500.00")}  # failed: wholly old
    yuzhong = [e.pk for e in homes["yuzhong"]]
    assert not EntitlementChange.objects.filter(entitlement_id__in=yuzhong).exists()
    assert not Entitlement.history.filter(id__in=yuzhong, history_type="~").exists()
    for entitlement in homes["wanzhou"]:
        assert entitlement.amount_for(add_months(MONTH, -1)) == Decimal("500.00")
        assert entitlement.amount_for(MONTH) == Decimal("560.00")
    # Run again (the job is retried): the failed district is done, the other left alone.
    monkeypatch.setattr(recalculation, "_open_reviews", real)
    counts = recalculation.entitlements_recalculate(MONTH)
    assert counts == {"checked": 6, "changed": 3, "reviews": 0}
    assert amounts(homes["yuzhong"]) == {Decimal("560.00")}


def pause_in(monkeypatch, module, name, call=1):
    """Make ``module.name`` stop when reached the ``call``-th time, until released; returns
    (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    real, calls = getattr(module, name), []

    def paused(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            reached.set()
            assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, paused)
    return reached, release


def in_thread(work, results: list) -> threading.Thread:
    def run():
        try:
            results.append(work())
        except Exception as exc:  # reported by the test
            results.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def payroll_of(cast, tree, month):
    from payments import services

    payroll = services.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=month
    )
    return lambda: services.payroll_generate(payroll_id=payroll.pk)


def payroll_amounts(month) -> set[Decimal]:
    from payments.models import PayrollLine

    return set(
        PayrollLine.objects.filter(month=month, kind="regular").values_list("amount", flat=True)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_payroll_waits_for_the_district_being_recalculated(cast, tree, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    calendar_seed_from_package()
    homes = two_districts(cast, tree)
    # 渝中 is recalculated second: stop it once its new amounts are written, uncommitted.
    reached, release = pause_in(monkeypatch, recalculation, "_open_reviews", call=2)
    results: list = []
    recalculating = in_thread(lambda: recalculation.entitlements_recalculate(MONTH), results)
    assert reached.wait(30)
    generate = payroll_of(cast, tree, MONTH)
    paying = in_thread(generate, results)
    paying.join(1.5)
    assert paying.is_alive()  # waiting for the district, not reading it half-done
    release.set()
    recalculating.join(30)
    paying.join(30)
    assert not any(isinstance(r, Exception) for r in results), results
    assert payroll_amounts(MONTH) == {Decimal("560.00")}
    assert amounts(homes["yuzhong"]) == {Decimal("560.00")}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_recalculation_waits_for_a_payroll_reading_the_district(cast, tree, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    from payments import generation

    calendar_seed_from_package()
    homes = two_districts(cast, tree)
    # The payroll stops between its regular lines and its arrears.
    reached, release = pause_in(monkeypatch, generation, "_reissues")
    results: list = []
    paying = in_thread(payroll_of(cast, tree, MONTH), results)
    assert reached.wait(30)
    recalculating = in_thread(lambda: recalculation.entitlements_recalculate(MONTH), results)
    # 万州 has no payroll running: it is done; 渝中 waits for the payroll to finish reading.
    for _wait in range(100):
        if amounts(homes["wanzhou"]) == {Decimal("560.00")}:
            break
        recalculating.join(0.1)
    assert amounts(homes["wanzhou"]) == {Decimal("560.00")}
    recalculating.join(1.5)
    assert recalculating.is_alive()
    assert amounts(homes["yuzhong"]) == {Decimal("500.00")}
    release.set()
    paying.join(30)
    recalculating.join(30)
    assert not any(isinstance(r, Exception) for r in results), results
    assert payroll_amounts(MONTH) == {Decimal("500.00")}  # all read before the new standard
    assert amounts(homes["yuzhong"]) == {Decimal("560.00")}


def test_a_review_opened_meanwhile_is_left_alone(cast, tree, monkeypatch):
    """The nightly job may open a review while a district is recalculated (it does not lock
    entitlements): the batch insert is refused by the unique index and each review then goes
    through ``review_open``, which keeps the one already open."""
    homes = two_districts(cast, tree)
    for entitlement in homes["yuzhong"] + homes["wanzhou"]:  # nobody is eligible any more
        Asset.objects.create(household=entitlement.household, type="vehicle")
    first = homes["yuzhong"][0]
    Review.objects.create(
        entitlement=first,
        township_id=first.household.region.parent_id,
        kind="periodic",
        opened_at=timezone.now(),
        due=MONTH,
    )
    monkeypatch.setattr(recalculation, "_reviewing", lambda ids: [])  # read before it opened
    counts = recalculation.entitlements_recalculate(MONTH)
    assert counts == {"checked": 6, "changed": 0, "reviews": 5}
    assert Review.objects.get(entitlement=first).kind == "periodic"
    reported = Review.objects.filter(kind="reported")
    assert reported.count() == 5
    assert {r.due for r in reported} == {MONTH}
