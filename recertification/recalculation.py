"""A new standard (DESIGN.md §7): every live 低保/特困/支出型 entitlement recomputed with the
figures in force from a month, as a background job (``tasks.recalculate``).

Set-based, one district at a time, in one transaction per district:

1. the district's payrolls are waited for and kept out (``core.jobs.district_amounts_write``;
   payroll generation holds ``district_amounts_read``) and its live entitlements locked;
2. what the means test reads about their households is read in a handful of queries
   (``eligibility.selectors.HouseholdCases``) and the rules run on those plain inputs
   (``eligibility.rules.assess``: the very functions a clerk's assessment runs);
3. the new amounts go to a temporary table in one round trip, and the timeline rows, the
   amounts and components, their history rows and audit events are each one ``INSERT …
   SELECT`` or ``UPDATE … FROM`` it; reviews are bulk-inserted.

A district is therefore either wholly recalculated or not at all, and a payroll of the
district reads it wholly before or wholly after. The tests hold the amounts, components and
reviews to the per-household means test (``household_case`` + ``assessment_preview``), and
``bench/recalculation.py`` measures it on 500,000 entitlements."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.models import Entitlement, EntitlementChange, Programme
from beneficiaries.models.entitlement import PAYMENT_KINDS
from core.audit import audit_event
from core.jobs import district_amounts_write, heartbeat
from core.models import AuditEvent
from eligibility import rules
from eligibility.selectors import HouseholdCases, policy_for
from notices import services as notices

from .models import Review
from .selectors import LIVE, OPEN_REVIEW
from .services import review_open

PROGRAMMES = ("dibao", "tekun", "expenditure")
BATCH = 5_000


def entitlements_recalculate(effective_month: dt.date) -> dict:
    """A new standard from ``effective_month`` (this month or later; months already paid are
    not rewritten here): recompute every active 低保/特困 entitlement with the figures in
    force that month and record each change from that month (or from the entitlement's first
    month, if later). A household no longer eligible is not cut off by the batch: a review is
    opened for it. One transaction per district; the job's heartbeat beats after each."""
    run = _Run(effective_month.replace(day=1))
    counts = {"checked": 0, "changed": 0, "reviews": 0}
    for district_code, ids in districts():
        done = district_recalculate(run, district_code, ids)
        for key in counts:
            counts[key] += done[key]
        heartbeat()
    return counts


def districts() -> list[tuple[str, list[int]]]:
    """The live entitlements' ids by district (the first six digits of the household's region
    code), read once: each district then reads its own rows by id, not by scanning every
    entitlement of the city again."""
    groups: dict[str, list[int]] = defaultdict(list)
    for pk, code in (
        Entitlement.objects.filter(status__in=LIVE, programme__in=PROGRAMMES)
        .order_by("pk")
        .values_list("pk", "household__region__code")
    ):
        groups[code[:6]].append(pk)
    return sorted(groups.items())


@dataclass
class _Run:
    """What one run shares between its districts: the month, the sentences it records and
    the figures in force it has read."""

    month: dt.date
    policies: dict = field(default_factory=dict)

    def __post_init__(self):
        label = f"{self.month:%Y-%m}"
        self.source = f"standard:{label}"
        self.cause = (_("New standard from %(month)s") % {"month": label})[:200]
        self.not_eligible = _("Not eligible under the standard from %(month)s") % {"month": label}
        self.decide_again = _(
            "A new standard applies from %(month)s: decide the amount from then."
        ) % {"month": label}
        self.programmes = {code: str(label) for code, label in Programme.choices}

    def policy(self, case: rules.Case) -> rules.Policy:
        key = (case.as_of, case.residence, case.district_code, case.programme)
        if key not in self.policies:
            self.policies[key] = policy_for(
                as_of=case.as_of,
                residence=case.residence,
                district_code=case.district_code,
                programme=case.programme,
            )[0]
        return self.policies[key]


# The entitlement's columns read, then what is read of its household and member (not the
# household's encrypted phone and account).
_COLUMNS = (
    "id",
    "household_id",
    "programme",
    "member_id",
    "monthly_amount",
    "components",
    "start_month",
    "end_month",
    "status",
    "household__number",
    "household__residence_type",
    "household__employs_others",
    "household__region__code",
    "household__region__parent_id",
    "household__region__parent__name",
    "member__id_number",
)


@dataclass(slots=True)
class _Entitlement:
    """An entitlement as the district's one query reads it: a row, not a model instance
    (half a million of those, with their household, region and member, cost more than the
    means test itself)."""

    id: int
    household_id: int
    programme: str
    member_id: int | None
    monthly_amount: Decimal
    components: list
    start_month: dt.date
    end_month: dt.date | None
    status: str
    number: str
    residence: str
    employs_others: bool
    region_code: str
    township_id: int
    township: str
    single_member: str | None

    def amount_in(self, month: dt.date, timeline: list) -> Decimal | None:
        """``Entitlement.amount_in``; with no timeline it can only give the amount itself or
        nothing (outside the months paid), which the caller reads alike."""
        if not timeline:
            return None
        model = Entitlement(
            id=self.id,
            start_month=self.start_month,
            end_month=self.end_month,
            monthly_amount=self.monthly_amount,
        )
        return model.amount_in(month, timeline)

    def repr(self, programmes: dict, amount) -> str:
        """``str(Entitlement)``, as the audit log names it."""
        return f"{self.number} {programmes.get(self.programme, self.programme)} {amount}"


@dataclass
class _Outcome:
    """A district's outcome, written together at the end of its transaction."""

    changed: list[tuple] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    reviews: list[tuple[_Entitlement, str, dt.date]] = field(default_factory=list)


@transaction.atomic
def district_recalculate(run: _Run, district_code: str, ids: list[int]) -> dict:
    """One district, in one transaction: its payrolls are waited for and kept out, its live
    entitlements (of ``ids``, those still live) locked, assessed from inputs read in bulk,
    and every change written."""
    district_amounts_write(district_code)
    if connection.vendor == "postgresql":  # the district's rows are sorted in memory
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
    entitlements = [
        _Entitlement(*row)
        for row in Entitlement.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=_among(ids), status__in=LIVE, programme__in=PROGRAMMES)
        .order_by("pk")
        .values_list(*_COLUMNS)
    ]
    if not entitlements:
        return {"checked": 0, "changed": 0, "reviews": 0}
    ids = [e.id for e in entitlements]
    cases = HouseholdCases(_among(sorted({e.household_id for e in entitlements})))
    timelines: dict[int, list] = defaultdict(list)
    for change in _timeline(_among(ids)):
        timelines[change.entitlement_id].append(change)
    reviewing = set(_reviewing(_among(ids)))
    outcome = _Outcome()
    for entitlement in entitlements:
        _decide(run, entitlement, cases, timelines.get(entitlement.id, []), outcome)
    _write_changes(run, outcome)
    if outcome.changed:  # the public standing list shows the amounts: the district's, with them
        notices.standing_refresh(prefix=district_code)
        transaction.on_commit(notices.public_changed)
    opened = _open_reviews(run, [r for r in outcome.reviews if r[0].id not in reviewing])
    return {"checked": len(entitlements), "changed": len(outcome.changed), "reviews": opened}


def _among(ids: list[int]):
    """``ids`` for an ``__in`` filter: on PostgreSQL one array parameter, not one parameter
    per id (for tens of thousands of ids the ORM's per-parameter work costs more than the
    query); elsewhere the list."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids


def _timeline(ids):
    """The amount and status changes (``Entitlement.amount_in`` reads those)."""
    return EntitlementChange.objects.filter(
        entitlement_id__in=ids, kind__in=PAYMENT_KINDS
    ).values_list(
        "id",
        "entitlement_id",
        "kind",
        "effective_month",
        "superseded",
        "source",
        "old_value",
        "new_value",
        named=True,
    )


def _reviewing(ids):
    return Review.objects.filter(entitlement_id__in=ids, status__in=OPEN_REVIEW).values_list(
        "entitlement_id", flat=True
    )


def _decide(run: _Run, entitlement: _Entitlement, cases: HouseholdCases, timeline, outcome):
    """The per-entitlement decision under the new standard: a review when the household is no
    longer eligible or a review already decided a later month, else the new amount from the
    month (when it differs from what that month pays)."""
    month = max(run.month, entitlement.start_month)
    case = cases.case(
        household_id=entitlement.household_id,
        residence=entitlement.residence,
        region_code=entitlement.region_code,
        employs_others=entitlement.employs_others,
        programme=entitlement.programme,
        as_of=month,
        single_member=entitlement.single_member or "",
    )
    result = rules.assess(case, run.policy(case))
    if not result.eligible:
        outcome.reviews.append((entitlement, run.not_eligible, month))
        return
    later = [
        c
        for c in timeline
        if c.kind == EntitlementChange.Kind.AMOUNT and c.effective_month > month
        if not c.superseded
    ]
    if any(c.source.startswith("review:") for c in later):
        # A review already decided the amount for a later month: the batch does not
        # overwrite it; the township decides again under the new standard.
        outcome.reviews.append((entitlement, run.decide_again, month))
        return
    # A suspended payment keeps its amount for when it resumes.
    current = entitlement.amount_in(month, timeline) or entitlement.monthly_amount
    amount = result.monthly_amount
    if amount is None or amount == current:
        return
    # The latest decision governs from its month on (``timeline.record_change``): changes
    # of the amount entered for later months are superseded.
    outcome.superseded += [c.id for c in later]
    components = [{"code": code, "amount": f"{rules.money(a)}"} for code, a in result.components]
    changes = {
        "monthly_amount": [str(entitlement.monthly_amount), str(amount)],
        "components": [entitlement.components, components],
    }
    outcome.changed.append(
        (
            entitlement.id,
            str(amount),
            json.dumps(components),
            str(current),
            month.isoformat(),
            entitlement.repr(run.programmes, amount),
            entitlement.region_code,
            f"household:{entitlement.household_id}",
            json.dumps(changes, ensure_ascii=False),
        )
    )


# --- writing a district's changes: a temporary table, then one statement per table ------------

_CHANGED = (
    "id",
    "new_amount",
    "new_components",
    "old_value",
    "month",
    "object_repr",
    "region_code",
    "case_key",
    "changes",
)


def _write_changes(run: _Run, outcome: _Outcome) -> None:
    """The timeline rows (superseding later ones), the new amounts and components, and the
    history row and audit event a ``save()`` would have left (bulk writes send no history
    signal): each one statement over the temporary table of the district's changes."""
    for chunk in _chunks(outcome.superseded):
        EntitlementChange.objects.filter(pk__in=chunk).update(superseded=True)
    if not outcome.changed:
        return
    sql = _Dialect()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE recalc_changed (id BIGINT PRIMARY KEY, "
            + ", ".join(f"{column} TEXT" for column in _CHANGED[1:])
            + ")"
        )
        sql.load(cursor, "recalc_changed", _CHANGED, outcome.changed)
        change = EntitlementChange._meta.db_table
        cursor.execute(
            f"INSERT INTO {change} (entitlement_id, kind, effective_month, old_value, "  # noqa: S608
            "new_value, cause, source, superseded, created_by_id, created_at) "
            f"SELECT id, %s, {sql.date('month')}, old_value, new_amount, %s, %s, %s, NULL, %s "
            "FROM recalc_changed ORDER BY id",
            [EntitlementChange.Kind.AMOUNT, run.cause, run.source, False, now],
        )
        event = AuditEvent._meta.db_table
        cursor.execute(
            f"INSERT INTO {event} (occurred_at, actor_id, actor_name, action, object_type, "  # noqa: S608
            "object_id, object_repr, region_code, case_key, from_state, to_state, reason, "
            "changes, seal, chain_position) "
            "SELECT %s, NULL, '', %s, %s, CAST(id AS TEXT), object_repr, region_code, case_key, "
            f"'', '', %s, {sql.json('changes')}, '', NULL FROM recalc_changed ORDER BY id",
            [now, AuditEvent.Action.UPDATE, Entitlement._meta.label_lower, run.cause],
        )
        table = Entitlement._meta.db_table
        cursor.execute(
            f"UPDATE {table} SET monthly_amount = CAST(c.new_amount AS {sql.money}), "  # noqa: S608
            f"components = {sql.json('c.new_components')} "
            f"FROM recalc_changed AS c WHERE {table}.id = c.id"
        )
        history = Entitlement.history.model
        columns = [f.column for f in history.tracked_fields]
        cursor.execute(
            f"INSERT INTO {history._meta.db_table} ({', '.join(columns)}, history_date, "  # noqa: S608
            "history_change_reason, history_type, history_user_id) "
            f"SELECT {', '.join(f'e.{c}' for c in columns)}, %s, %s, '~', NULL "
            f"FROM {table} AS e JOIN recalc_changed AS c ON c.id = e.id ORDER BY e.id",
            [now, run.cause],
        )
        cursor.execute("DROP TABLE recalc_changed")


class _Dialect:
    """What differs between PostgreSQL and SQLite in the statements above."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.money = "NUMERIC(10, 2)" if self.postgres else "NUMERIC"

    def json(self, column: str) -> str:
        return f"CAST({column} AS jsonb)" if self.postgres else column

    def date(self, column: str) -> str:
        return f"CAST({column} AS date)" if self.postgres else column

    def load(self, cursor, table: str, columns: tuple, rows: list[tuple]) -> None:
        """The rows into ``table`` in one round trip (COPY on PostgreSQL)."""
        if not self.postgres:
            marks = ", ".join("%s" for _c in columns)
            cursor.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
            return
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        buffer.seek(0)
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer
        )


# --- reviews ---------------------------------------------------------------------------------


def _open_reviews(run: _Run, wanted: list[tuple[_Entitlement, str, dt.date]]) -> int:
    """A reported-change review for each (``services.review_open`` in bulk), with its history
    row and audit event. A review opened meanwhile by someone else (the nightly job does not
    lock entitlements) makes the unique index refuse the batch: then each goes through
    ``review_open``, which leaves the one already open alone."""
    if not wanted:
        return 0
    reviews = [
        Review(
            entitlement_id=entitlement.id,
            township_id=entitlement.township_id,
            kind=Review.Kind.REPORTED,
            opened_at=timezone.now(),
            due=due,
            reported_change=change,
        )
        for entitlement, change, due in wanted
    ]
    try:
        with transaction.atomic():
            Review.objects.bulk_create(reviews, batch_size=BATCH)
    except IntegrityError:
        return sum(
            review_open(
                Entitlement.objects.select_related("household__region__parent").get(pk=e.id),
                change,
                due=due,
            )
            for e, change, due in wanted
        )
    Review.history.bulk_history_create(reviews, batch_size=BATCH)
    AuditEvent.objects.bulk_create(
        [_created(run, r, e) for r, (e, _c, _d) in zip(reviews, wanted, strict=True)],
        batch_size=BATCH,
    )
    return len(reviews)


def _created(run: _Run, review: Review, entitlement: _Entitlement) -> AuditEvent:
    """The audit event ``save()`` leaves for a new review: each field set, and what its
    references are called."""
    event = audit_event(
        actor=None,
        action=AuditEvent.Action.CREATE,
        region_code=entitlement.region_code,
        case_key=f"household:{entitlement.household_id}",
        changes={
            "entitlement_id": [None, entitlement.id],
            "township_id": [None, review.township_id],
            "kind": [None, review.kind],
            "opened_at": [None, timezone.localtime(review.opened_at).isoformat("T", "seconds")],
            "due": [None, str(review.due)],
            "reported_change": [None, review.reported_change],
            "status": [None, review.status],
            "entitlement_id__label": [
                None,
                entitlement.repr(run.programmes, entitlement.monthly_amount),
            ],
            "township_id__label": [None, entitlement.township],
        },
    )
    event.object_type = Review._meta.label_lower
    event.object_id = str(review.pk)
    event.object_repr = f"{review.get_kind_display()} {entitlement.number} {review.due}"[:200]
    return event


def _chunks(items: list, size: int = BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]
