"""Deadlines counted again when the working-day calendar changes.

A year's holidays are published late (the State Council announces them in the autumn), so
deadlines running into a year nobody has entered yet are counted Monday to Friday and shown
as provisional. When the city admin enters or edits the calendar, every running deadline is
counted again from what it was counted from: the open cases' step and whole-process
deadlines, the refusal letters still to deliver, the paperwork after an emergency payment,
the referrals waiting for a department and the leads waiting for contact. Each deadline that
moves is recorded in the audit log (before and after) with the reason.

It runs after every change to the calendar (``apps.ApplicationsConfig``) and every night, and
changes nothing when nothing moved, so running it twice is harmless."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_event
from core.jobs import heartbeat
from core.models import AuditEvent
from core.workdays import WorkdayCalendar
from eligibility.selectors import policy_figure

from . import flows
from .models import Application, HomeVisit, Lead, Referral
from .services import process_due
from .workflow import step_deadline

S = Application.Status
BATCH = 2000
# Letters are delivered within days of the decision: older refusals are history.
LETTER_LOOKBACK = dt.timedelta(days=60)


class _Figures:
    """Policy figures looked up once per figure and month, not once per case."""

    def __init__(self):
        self._seen: dict[tuple[str, dt.date], object] = {}

    def __call__(self, kind: str, on: dt.date):
        key = (kind, on.replace(day=1))
        if key not in self._seen:
            self._seen[key] = policy_figure(kind, on)
        return self._seen[key]


def deadlines_recompute(today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    figure = _Figures()
    calendar = WorkdayCalendar.load(today.year - 3, today.year + 3)
    counts = {}
    counts["case_deadlines"] = _update(
        Application,
        _open_cases(today).select_related("household__region"),
        lambda case: _case_deadlines(case, figure, calendar),
    )
    counts["referral_deadlines"] = _update(
        Referral,
        Referral.objects.filter(status=Referral.Status.OPEN).select_related(
            "household__region", "department"
        ),
        lambda r: {"due": _from(r.created_at, "referral_workdays", figure, calendar)},
    )
    counts["lead_deadlines"] = _update(
        Lead,
        Lead.objects.filter(status=Lead.Status.OPEN).select_related("village"),
        lambda lead: {
            "contact_due": _from(lead.reported_at, "lead_contact_workdays", figure, calendar)
        },
    )
    return counts


def _open_cases(today: dt.date):
    """Cases with a deadline still running: open ones, refusals whose letter may still be on
    its way, emergency payments whose paperwork is not done."""
    from django.db.models import Q

    letters = Q(status=S.REJECTED, letter_due__isnull=False, decided_at__gte=_since(today))
    paperwork = Q(status=S.APPROVED, emergency=True, paperwork_due__isnull=False) & ~Q(
        visits__kind=HomeVisit.Kind.INVESTIGATION
    )
    return Application.objects.filter(Q(status__in=flows.OPEN) | letters | paperwork).distinct()


def _since(today: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(today - LETTER_LOOKBACK, dt.time()))


def _case_deadlines(case: Application, figure, calendar) -> dict:
    wanted = {}
    if case.step_clock and case.step_from:
        due = step_deadline(
            case, case.step_clock, case.step_from, case.step_from, figure=figure, calendar=calendar
        )
        wanted["letter_due" if case.status == S.REJECTED else "step_due"] = due
    if case.status in flows.OPEN and case.accepted_on:
        wanted["decision_due"] = process_due(
            case.programme,
            case.accepted_on,
            extended=bool(case.extended_reason),
            figure=figure,
            calendar=calendar,
        )
    if case.emergency and case.status == S.APPROVED and case.decided_at:
        decided = timezone.localtime(case.decided_at).date()
        wanted["paperwork_due"] = step_deadline(
            case, "emergency_paperwork_workdays", decided, figure=figure, calendar=calendar
        )
    return wanted


def _from(moment: dt.datetime, clock: str, figure, calendar) -> dt.date:
    start = timezone.localtime(moment).date()
    return calendar.add_workdays(start, int(figure(clock, start)))


def _update(model, rows: Iterable, wanted) -> int:
    """Set each row's deadlines to what ``wanted(row)`` counts; record each that moves."""
    moved = 0
    updates: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    events = []
    for row in rows.iterator(chunk_size=BATCH):
        changes = {
            name: (getattr(row, name), due)
            for name, due in wanted(row).items()
            if getattr(row, name) != due
        }
        if not changes:
            continue
        for name, (_before, due) in changes.items():
            updates[name, due].append(row.pk)
        events.append(
            audit_event(
                actor=None,
                action=AuditEvent.Action.UPDATE,
                obj=row,
                reason=_("The working-day calendar changed: deadline counted again"),
                changes={name: [str(a), str(b)] for name, (a, b) in changes.items()},
            )
        )
        if len(events) >= BATCH:
            moved += _write(model, updates, events)
            updates, events = defaultdict(list), []
    if events:
        moved += _write(model, updates, events)
    return moved


@transaction.atomic
def _write(model, updates: dict, events: list) -> int:
    # Deadlines cluster on a few dates: one UPDATE per (field, new date) is far cheaper than
    # bulk_update's CASE over every row.
    for (name, due), pks in updates.items():
        model.objects.filter(pk__in=pks).update(**{name: due})
    AuditEvent.objects.bulk_create(events)
    heartbeat()
    return len(events)
