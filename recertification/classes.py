"""Classes A/B/C (分类管理, DESIGN.md §7): the rule of ``eligibility.classes.household_class``
for one household, and the same rule as one SQL expression that the nightly job runs over
every live entitlement. The tests hold the two to the same answers."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries import people
from beneficiaries.models import Entitlement, EntitlementChange, Household, IncomeItem, Member
from core.months import add_months, next_month
from eligibility import classes
from eligibility.selectors import policy_figure

from .selectors import LIVE

# A pension in force is a stable income source; the basic resident pension
# (城乡居民基本养老保险) is not.
PENSIONS = (IncomeItem.Type.PENSION,)


def IN_FORCE(today: dt.date) -> Q:
    """An income item in force on ``today`` (as ``IncomeItem.in_force``)."""
    return (Q(period_start__isnull=True) | Q(period_start__lte=today)) & (
        Q(period_end__isnull=True) | Q(period_end__gte=today)
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def review_months(klass: str, today: dt.date, residence: str = "", district_code: str = "") -> int:
    """Months between reviews of a class, as policy data sets them for the household's
    residence type and district (a city may review urban class C monthly)."""
    return int(policy_figure(f"review_months_{klass.lower()}", today, district_code, residence))


def review_months_for(klass: str, today: dt.date, household: Household) -> int:
    return review_months(klass, today, household.residence_type, household.region.code)


def _no_capacity_from_disability() -> Q:
    """``people.capacity_from_disability`` == "none", as a condition on members."""
    condition = Q(pk__in=[])
    for kind, grade in people.NO_CAPACITY_GRADES.items():
        condition |= Q(disability_type=kind, disability_grade__lte=grade)
    return condition


def derived_class(today: dt.date):
    """The class rule of ``eligibility.classes.household_class`` as one SQL expression over an
    Entitlement queryset (the tests hold the two to the same answers): over the household's
    counted members, or over the one member of a 单人保 entitlement."""
    household = Member.objects.filter(household=OuterRef("household"), is_current=True).filter(
        people.counted_q()
    )
    alone = Member.objects.filter(
        pk=OuterRef("member"), household=OuterRef("household"), is_current=True
    ).filter(people.counted_q())
    household_pensions = IncomeItem.objects.filter(
        member__household=OuterRef("household"), member__is_current=True
    ).filter(people.counted_q("member__"))
    alone_pensions = IncomeItem.objects.filter(
        member=OuterRef("member"), member__household=OuterRef("household"), member__is_current=True
    ).filter(people.counted_q("member__"))
    return Case(
        When(member__isnull=True, then=_class_of(household, household_pensions, today)),
        default=_class_of(alone, alone_pensions, today),
        output_field=CharField(),
    )


def _class_of(members, incomes, today: dt.date):
    working_from = int(policy_figure("working_age_from", today))
    retire_at = int(policy_figure("retirement_age", today))
    capable = Q(labour_capacity=Member.Labour.FULL) | (
        Q(labour_capacity=Member.Labour.DERIVED) & ~_no_capacity_from_disability()
    )
    able = Exists(
        members.filter(
            capable,
            birth_date__lte=_years_before(today, working_from),
            birth_date__gt=_years_before(today, retire_at),
            serious_illness=False,
        )
    )
    stable = Exists(members.filter(employment__in=sorted(classes.STABLE_EMPLOYMENT))) | Exists(
        incomes.filter(type__in=PENSIONS).filter(IN_FORCE(today))
    )
    return Case(
        When(~able, then=Value("A")),
        When(stable, then=Value("B")),
        default=Value("C"),
        output_field=CharField(),
    )


def class_for_entitlement(entitlement: Entitlement, today: dt.date) -> str:
    """The class of an entitlement: its household's, or its one member's (单人保)."""
    if entitlement.member_id:
        return class_for_household(entitlement.household, today, only=entitlement.member_id)
    return class_for_household(entitlement.household, today)


def class_for_household(household: Household, today: dt.date, only: int | None = None) -> str:
    """The rule in Python, for one household (used when a reviewer decides); with ``only``,
    for that member alone."""
    pensioners = set(
        IncomeItem.objects.filter(member__household=household, type__in=PENSIONS)
        .filter(IN_FORCE(today))
        .values_list("member_id", flat=True)
    )
    members = [
        classes.ClassMember(
            birth_date=m.birth_date,
            lives_with_household=m.lives_with_household,
            absence_reason=m.absence_reason,
            absence_counted=m.absence_counted,
            labour_capacity=m.labour_capacity,
            disability_type=m.disability_type,
            disability_grade=m.disability_grade,
            serious_illness=m.serious_illness,
            employment=m.employment,
            has_pension=m.pk in pensioners,
        )
        for m in household.members.filter(is_current=True)
        if only is None or m.pk == only
    ]
    return classes.household_class(
        members,
        today,
        int(policy_figure("working_age_from", today)),
        int(policy_figure("retirement_age", today)),
    )


def _cause_members(today: dt.date):
    """The members a class change can be put down to, as a Member queryset with a flag per
    cause: turned 60 (or 16) in the last week, or severely disabled (no labour capacity from
    the disability table). Current and counted members only."""
    since = today - dt.timedelta(days=7)
    turned = {}
    for label, kind in (("turned_old", "retirement_age"), ("turned_adult", "working_age_from")):
        age = int(policy_figure(kind, today))
        turned[label] = Q(
            birth_date__gt=_years_before(since, age), birth_date__lte=_years_before(today, age)
        )
    severe = _no_capacity_from_disability()
    flags = {
        label: ExpressionWrapper(condition, output_field=BooleanField())
        for label, condition in (*turned.items(), ("severe", severe))
    }
    return (
        Member.objects.filter(is_current=True)
        .filter(people.counted_q())
        .filter(turned["turned_old"] | turned["turned_adult"] | severe)
        .order_by()
        .values("household_id", "id", "name", **flags)
    )


# The night's work, in temporary tables of the session: the moves (each entitlement whose
# class changes), the members their causes name, and the next review of each new class.
_MOVES, _CAUSES, _DUE = "class_moves", "class_causes", "class_due"
_MARK = "\uffff"  # stands for a member's name in a translated sentence


def classes_rederive(today: dt.date | None = None) -> dict:
    """Re-derive every live entitlement's class; record each change with its cause and bring
    the next review forward when the new class is reviewed more often.

    Set-based from end to end, as a rule change moves every class at once (500,000 at city
    scale): the derivation, the members behind the causes and the review dates go into
    temporary tables by a few statements, and one UPDATE ... FROM moves the classes and
    records what it moved. No entitlement passes through Python."""
    today = today or timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The derivation's correlated subqueries make the planner's cost estimate huge, so
            # JIT compiled for 0.7 s (quiet machine) to 5.6 s (loaded) a query that runs in
            # 3.6 s without it (1,000,000 households); the hashes over members and moves fit
            # in memory with this much.
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '128MB'")
        done = _moves_apply(cursor, today) if _moves_derive(cursor, today) else {}
        for table in (_MOVES, _CAUSES, _DUE):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return {"changed": sum(done.values()), **dict(sorted(done.items()))}


def _moves_derive(cursor, today: dt.date) -> int:
    """Fill the temporary tables; return the number of moves."""
    derivation = (
        Entitlement.objects.filter(status__in=LIVE, class_overridden=False)
        .order_by()
        .values(
            "id",
            "household_id",
            old=F("klass"),
            new=derived_class(today),
            residence=F("household__residence_type"),
            district=Substr("household__region__code", 1, 6),
        )
    )
    sql, params = derivation.query.sql_with_params()
    # Filtered outside a fence: a filter on the query itself would repeat the derivation's
    # subqueries in its WHERE.
    fence = "OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0"
    moves = f"SELECT * FROM ({sql} {fence}) AS d WHERE d.old <> d.new"  # noqa: S608
    _create(cursor, _MOVES, f"AS {moves}", params)
    cursor.execute(f"SELECT COUNT(*) FROM {_MOVES}")  # noqa: S608 (names from this module)
    (moved,) = cursor.fetchone()
    if not moved:
        return 0
    cursor.execute(f"ANALYZE {_MOVES}")  # autovacuum never analyses temporary tables
    # The moved households' members behind a cause: one pass over the members when many
    # classes move, a few index lookups on an ordinary night (the planner chooses).
    in_moves = RawSQL(f"SELECT household_id FROM {_MOVES}", ())  # noqa: S608, S611
    sql, params = _cause_members(today).filter(household_id__in=in_moves).query.sql_with_params()
    _create(cursor, _CAUSES, f"AS {sql}", params)
    cursor.execute(f"CREATE INDEX {_CAUSES}_household ON {_CAUSES} (household_id, id)")
    # The next review of each new class, as the policy sets it for the residence and district.
    month = next_month(today)
    cursor.execute(f"SELECT DISTINCT new, residence, district FROM {_MOVES}")  # noqa: S608
    due = [
        (
            klass,
            residence,
            district,
            connection.ops.adapt_datefield_value(
                add_months(month, review_months(klass, today, residence, district))
            ),
        )
        for klass, residence, district in cursor.fetchall()
    ]
    _create(cursor, _DUE, "(klass varchar(1), residence varchar(8), district varchar(6), due date)")
    cursor.executemany(f"INSERT INTO {_DUE} VALUES (%s, %s, %s, %s)", due)  # noqa: S608
    cursor.execute(f"ANALYZE {_DUE}")  # else joined by a nested loop, 500,000 index lookups
    return moved


def _create(cursor, table: str, definition: str, params=()) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {table}")
    cursor.execute(f"CREATE TEMPORARY TABLE {table} {definition}", params)


def _moves_apply(cursor, today: dt.date) -> dict[str, int]:
    """Move the classes, bring reviews forward and record each change with its cause, for
    the entitlements still as derived: a reviewer's decision taken meanwhile (another class,
    an override, an end) is left alone and not recorded. Returns the moves per new class."""
    entitlements, changes = Entitlement._meta.db_table, EntitlementChange._meta.db_table
    live = ", ".join(f"'{status}'" for status in LIVE)
    applies = f"e.id = m.id AND e.klass = m.old AND NOT e.class_overridden AND e.status IN ({live})"
    cause, cause_params = _cause_sql(today)
    # Table and column names come from the models and this module; every value is a parameter.
    record = (
        f"INSERT INTO {changes} (entitlement_id, kind, effective_month, old_value, "  # noqa: S608
        "new_value, cause, source, superseded, created_at) "
        f"SELECT m.id, 'class', %s, m.old, m.new, {cause}, '', false, %s FROM {{moves}} AS m"
    )
    values = [
        connection.ops.adapt_datefield_value(next_month(today)),
        *cause_params,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    move = (
        f"UPDATE {entitlements} AS e SET klass = m.new, "  # noqa: S608
        "next_review = {earlier}(e.next_review, d.due) "
        f"FROM {_MOVES} AS m JOIN {_DUE} AS d "
        "ON d.klass = m.new AND d.residence = m.residence AND d.district = m.district "
        f"WHERE {applies}"
    )
    if connection.vendor == "postgresql":
        # One statement: the UPDATE locks each row and checks it again once a reviewer's
        # transaction on it has committed, and exactly what it moved is recorded.
        moved = f"{move.format(earlier='LEAST')} RETURNING e.id, e.household_id, m.old, m.new"
        cursor.execute(
            f"WITH moved AS ({moved}), "  # noqa: S608
            f"recorded AS ({record.format(moves='moved')} RETURNING new_value) "
            "SELECT new_value, COUNT(*) FROM recorded GROUP BY new_value",
            values,
        )
        return dict(cursor.fetchall())
    # SQLite: the transaction is IMMEDIATE (settings), so nobody writes between these three.
    cursor.execute(
        f"SELECT m.new, COUNT(*) FROM {_MOVES} AS m "  # noqa: S608
        f"JOIN {entitlements} AS e ON {applies} GROUP BY m.new"
    )
    done = dict(cursor.fetchall())
    cursor.execute(f"{record.format(moves=_MOVES)} JOIN {entitlements} AS e ON {applies}", values)
    cursor.execute(move.format(earlier="MIN"))
    return done


def _cause_sql(today: dt.date) -> tuple[str, list]:
    """Why a class changed overnight, in words a reviewer recognises: the input that flipped
    (nobody able to work any more, someone able now, or the income sources)."""

    def member(flag: str) -> str:
        return (
            f"(SELECT c.name FROM {_CAUSES} AS c WHERE c.household_id = m.household_id "  # noqa: S608
            f"AND c.{flag} ORDER BY c.id LIMIT 1)"
        )

    def turned(flag: str, kind: str) -> tuple[str, list]:
        age = int(policy_figure(kind, today))
        before, after = (_("%(name)s turned %(age)d") % {"name": _MARK, "age": age}).split(_MARK)
        return f"{member(flag)} <> '' THEN %s || {member(flag)} || %s", [before, after]

    old_sql, old_params = turned("turned_old", "retirement_age")
    adult_sql, adult_params = turned("turned_adult", "working_age_from")
    sql = (
        "CASE WHEN m.new <> 'A' AND m.old <> 'A' THEN %s "
        f"WHEN m.new = 'A' AND {old_sql} "
        f"WHEN m.old = 'A' AND {adult_sql} "
        f"WHEN m.new = 'A' AND {member('severe')} IS NOT NULL THEN %s ELSE %s END"
    )
    params = [_("Income sources changed (employment or pension)"), *old_params, *adult_params]
    return sql, [*params, _("Severe disability recorded"), _("Household data changed")]
