"""What a resident may learn without logging in, given a number from a paper they hold and
the last six characters of an ID number: a case's steps, a household's payments, an
objection's state. Answers are built here field by field, so nothing else of a household (no
name, ID number, address, phone, nor anyone else's amount) can reach a page or the API. A
wrong pair finds nothing, exactly like an unknown number."""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import Application, Material
from beneficiaries.models import Household, Programme
from core.months import add_months
from notices.models import OBJECTION_REFERENCE, Objection
from payments.models import COMMITTED_PAYROLL, PayrollLine

ID_TAIL = re.compile(r"[0-9]{5}[0-9X]")
S = Application.Status
# The steps an applicant sees, in order, and the statuses from which each is done.
INVESTIGATED = (S.APPRAISAL, S.TOWNSHIP_REVIEW, S.NOTICED, S.DISTRICT_REVIEW, S.APPROVED)
DECIDED = (S.APPROVED, S.REJECTED, S.WITHDRAWN)
PUBLIC_STATUS = {
    S.RECEIVED: gettext_lazy("Received"),
    S.NEEDS_MATERIALS: gettext_lazy("Waiting for missing materials"),
    S.INVESTIGATING: gettext_lazy("Under investigation"),
    S.APPRAISAL: gettext_lazy("Under investigation"),
    S.TOWNSHIP_REVIEW: gettext_lazy("Under review by the township"),
    S.NOTICED: gettext_lazy("On public notice"),
    S.DISTRICT_REVIEW: gettext_lazy("Awaiting the district's decision"),
    S.APPROVED: gettext_lazy("Decided: approved"),
    S.REJECTED: gettext_lazy("Decided: not approved (the written decision says why)"),
    S.WITHDRAWN: gettext_lazy("Withdrawn"),
}
PAYMENT_STATUS = {
    "sent": gettext_lazy("Sent to your account"),
    "sending": gettext_lazy("Being sent by the bank"),
    "approved": gettext_lazy("Approved, to be sent"),
    "reissuing": gettext_lazy("Account corrected: being paid again"),
    "failed": gettext_lazy(
        "Not paid: the bank refused it. Bring your bank card or passbook to the township "
        "window to correct the account; it is paid again once corrected."
    ),
    "held": gettext_lazy(
        "Held: the account on record cannot be paid into. Bring your bank card or passbook "
        "to the township window."
    ),
}


def clean_tail(value: str) -> str:
    """The last six characters of an ID number as typed: spaces dropped, x as X."""
    return (value or "").strip().replace(" ", "").upper()


def _tail_matches(id_numbers, tail: str) -> bool:
    return bool(ID_TAIL.fullmatch(tail)) and any(
        (number or "").upper().endswith(tail) for number in id_numbers if number
    )


def _office(township) -> dict:
    return {"name": township.name, "phone": township.office_phone or ""}


def _day(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.isoformat()


def progress(receipt_number: str, id_tail: str) -> dict | None:
    """The case's steps as its applicant should see them, or None (unknown receipt or a
    wrong ID tail: the caller cannot tell which)."""
    case = (
        Application.objects.filter(number=(receipt_number or "").strip())
        .select_related("household__head", "single_member", "township")
        .first()
    )
    if case is None:
        return None
    holders = [case.household.head.id_number if case.household.head_id else ""]
    if case.single_member_id:
        holders.append(case.single_member.id_number)
    if not _tail_matches(holders, clean_tail(id_tail)):
        return None
    # A notice taken down for re-investigation is not the case's notice any more.
    notice = case.notices.exclude(status="withdrawn").order_by("-starts_on").first()
    status = case.status
    steps = [
        {"label": str(_("Received at the window")), "date": _day(case.received_at), "done": True},
        {
            "label": str(_("Materials complete")),
            "date": _day(case.accepted_on),
            "done": case.accepted_on is not None,
        },
        {
            "label": str(_("Home visit and investigation")),
            "date": None,
            "done": status in INVESTIGATED or case.investigated_by_id is not None,
        },
        {
            "label": str(_("Public notice in the village")),
            "date": _day(notice.starts_on) if notice else None,
            "done": notice is not None and notice.ends_on < timezone.localdate(),
        },
        {
            "label": str(_("Approval decision")),
            "date": _day(case.decided_at),
            "done": status in (S.APPROVED, S.REJECTED),
        },
    ]
    if case.programme == Programme.TEMPORARY:
        steps = [step for index, step in enumerate(steps) if index != 3]
    missing = (
        [
            str(Material(m.material).label)
            for m in case.materials.all()
            if m.required and not m.received
        ]
        if status in (S.RECEIVED, S.NEEDS_MATERIALS)
        else []
    )
    return {
        "status": status,
        "status_label": str(PUBLIC_STATUS.get(status, status)),
        "programme": str(Programme(case.programme).label),
        "steps": steps,
        "decision_due": _day(case.decision_due) if status not in DECIDED else None,
        "missing_materials": missing,
        "bring_to": str(
            _("Bring them to the %(office)s window, with this receipt.")
            % {"office": case.township.name}
        )
        if missing
        else "",
        "office": _office(case.township),
    }


def _payment_status(line: PayrollLine, payroll_status: str) -> str:
    if line.status == PayrollLine.Status.PAID:
        return "sent"
    if line.status in (PayrollLine.Status.FAILED, PayrollLine.Status.HELD):
        # Once the township has confirmed the account, the money goes out again.
        return "reissuing" if line.reissue_requested_at else line.status
    return "sending" if payroll_status in ("exported", "reconciled") else "approved"


def payments(household_number: str, id_tail: str, *, today: dt.date | None = None):
    """The household's payments of the last 12 months (approved payrolls only), or None."""
    household = (
        Household.objects.filter(number=(household_number or "").strip())
        .select_related("head", "region__parent")
        .first()
    )
    if household is None or not household.head_id:
        return None
    if not _tail_matches([household.head.id_number], clean_tail(id_tail)):
        return None
    this_month = (today or timezone.localdate()).replace(day=1)
    since = add_months(this_month, -11)
    lines = (
        PayrollLine.objects.filter(
            household=household,
            payroll__status__in=COMMITTED_PAYROLL,
            payroll__month__gte=since,
        )
        .select_related("payroll")
        .order_by("-payroll__month", "kind", "id")
    )
    months = []
    for line in lines:
        status = _payment_status(line, line.payroll.status)
        months.append(
            {
                "month": f"{line.payroll.month:%Y-%m}",
                "for_month": f"{line.month:%Y-%m}",
                "programme": line.payroll.programme,
                "programme_label": str(Programme(line.payroll.programme).label),
                "kind": line.kind,
                "kind_label": str(PayrollLine.Kind(line.kind).label),
                "amount": f"{line.amount:.2f}",
                "status": status,
                "status_label": str(PAYMENT_STATUS[status]),
            }
        )
    township = household.region.parent
    return {"months": months, "office": _office(township)}


OBJECTION_STATUS = {
    Objection.Status.OPEN: gettext_lazy("Received: the township is looking into it"),
    Objection.Status.REINVESTIGATING: gettext_lazy("The case is being investigated again"),
    Objection.Status.RESOLVED: gettext_lazy("Dealt with"),
}


def objection(reference: str) -> dict | None:
    """Whether an objection was received, is being re-investigated, or was dealt with (never
    what was found)."""
    reference = (reference or "").strip().upper()
    if not OBJECTION_REFERENCE.fullmatch(reference):
        return None
    found = Objection.objects.filter(reference=reference).values("status", "received_at").first()
    if found is None:
        return None
    return {
        "reference": reference,
        "status": found["status"],
        "status_label": str(OBJECTION_STATUS[found["status"]]),
        "received_on": _day(found["received_at"]),
    }
