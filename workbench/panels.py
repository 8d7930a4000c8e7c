"""The work queues on each role's home page. They gather work from several apps (the window,
the tiered review, objections, periodic reviews), so they live above all of them."""

from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from applications.models import Application, Lead, Referral
from applications.selectors import application_list, lead_list, referral_list
from core.workdays import WorkdayCalendar, missing_years
from notices.models import Objection
from payments.models import PaymentCheck, Payroll
from payments.selectors import (
    overpayment_list,
    payment_check_list,
    payments_to_fix,
    payroll_list,
)
from recertification.models import Review
from recertification.selectors import review_counts, review_list, review_search

SOON_WORKDAYS = 3


def _provisional(items: list[dict]) -> list[dict]:
    """Mark the deadlines (an item's ``due``) that fall in a year without a calendar: they
    were counted Monday to Friday and are provisional until it is entered."""
    missing = set(missing_years(sorted({i["due"].year for i in items if i.get("due")})))
    for item in items:
        item["provisional"] = bool(item.get("due") and item["due"].year in missing)
    return items


def received_today(user) -> dict:
    today = timezone.localdate()
    qs = application_list(user=user).filter(received_at__date=today)
    return {
        "title": _("Applications received today"),
        "count": qs.count(),
        "empty": _("No applications received today."),
        "items": [_item(a) for a in qs[:5]],
    }


def waiting_for_materials(user) -> dict:
    qs = application_list(user=user).filter(status=Application.Status.NEEDS_MATERIALS)
    return {
        "title": _("Waiting for materials"),
        "count": qs.count(),
        "empty": _("No application is waiting for materials."),
        "items": [_item(a) for a in qs[:5]],
    }


def referrals_due(user) -> dict:
    today = timezone.localdate()
    soon = WorkdayCalendar.load(today.year, today.year + 1).add_workdays(today, SOON_WORKDAYS)
    qs = referral_list(user=user).filter(status=Referral.Status.OPEN, due__lte=soon)
    overdue = qs.filter(due__lt=today).count()
    title = (
        _("Referrals due (%(overdue)d overdue)") % {"overdue": overdue}
        if overdue
        else _("Referrals due")
    )
    return {
        "title": title,
        "count": qs.count(),
        "empty": _("No referral to another department is due."),
        "items": _provisional(
            [
                {
                    "label": f"{r.due:%m-%d} {r.get_kind_display()} · {r.household.number}",
                    "url": reverse("beneficiaries:detail", args=[r.household_id]),
                    "due": r.due,
                }
                for r in qs[:5]
            ]
        ),
    }


def leads_to_follow(user) -> dict:
    today = timezone.localdate()
    qs = lead_list(user=user).filter(status=Lead.Status.OPEN)
    overdue = qs.filter(contact_due__lt=today).count()
    title = (
        _("Leads to follow up (%(overdue)d overdue)") % {"overdue": overdue}
        if overdue
        else _("Leads to follow up")
    )
    return {
        "title": title,
        "count": qs.count(),
        "url": reverse("applications:leads"),
        "empty": _("No reported person is waiting for contact."),
        "items": _provisional(
            [
                {
                    "label": f"{lead.contact_due:%m-%d} {lead.person_name}",
                    "url": reverse("applications:leads"),
                    "due": lead.contact_due,
                }
                for lead in qs[:5]
            ]
        ),
    }


def reported_by_me(user) -> dict:
    qs = lead_list(user=user).filter(reported_by=user)
    return {
        "title": _("People in urgent need reported"),
        "count": qs.count(),
        "url": reverse("applications:leads"),
        "empty": _("You have not reported anyone yet."),
    }


TOWNSHIP_STEPS = (
    Application.Status.RECEIVED,
    Application.Status.INVESTIGATING,
    Application.Status.APPRAISAL,
    Application.Status.TOWNSHIP_REVIEW,
)


def _deadline_panel(title, overdue_title, qs, empty, *, action=None) -> dict:
    """Cases oldest deadline first (no deadline last), the overdue ones counted and marked."""
    today = timezone.localdate()
    qs = qs.order_by(F("step_due").asc(nulls_last=True), "received_at")
    overdue = qs.filter(step_due__lt=today).count()
    return {
        "title": overdue_title % {"overdue": overdue} if overdue else title,
        "count": qs.count(),
        "url": reverse("applications:list"),
        "empty": empty,
        "action": action,
        "items": _provisional(
            [
                {
                    "label": (f"{a.step_due:%m-%d} " if a.step_due else "")
                    + f"{a.number} {a.get_status_display()}",
                    "url": reverse("applications:detail", args=[a.pk]),
                    "overdue": bool(a.step_due and a.step_due < today),
                    "due": a.step_due,
                }
                for a in qs[:8]
            ]
        ),
    }


def township_cases(user) -> dict:
    today = timezone.localdate()
    objected = Objection.objects.filter(application=OuterRef("pk"), status="open")
    qs = application_list(user=user).filter(
        Q(status__in=TOWNSHIP_STEPS)
        | Q(status=Application.Status.NOTICED, step_due__lt=today)
        | Q(Exists(objected), status=Application.Status.NOTICED)
    )
    return _deadline_panel(
        _("Cases awaiting the township"),
        _("Cases awaiting the township (%(overdue)d overdue)"),
        qs,
        _("No case is waiting for the township."),
    )


def emergency_paperwork(user) -> dict:
    """Paid first in an emergency: the home visit is still to be recorded."""
    today = timezone.localdate()
    qs = (
        application_list(user=user)
        .filter(emergency=True, status=Application.Status.APPROVED)
        .exclude(visits__kind="investigation")
        .order_by("paperwork_due")
    )
    overdue = qs.filter(paperwork_due__lt=today).count()
    return {
        "title": _("Emergency payments awaiting paperwork (%(overdue)d overdue)")
        % {"overdue": overdue}
        if overdue
        else _("Emergency payments awaiting paperwork"),
        "count": qs.count(),
        "empty": _("No emergency payment is waiting for its paperwork."),
        "items": [
            {
                **_item(a),
                "overdue": a.paperwork_due < today,
            }
            for a in qs[:5]
        ],
    }


def reviews_due(user) -> dict:
    counts = review_counts(user=user)
    today = timezone.localdate()
    qs = review_search(user=user, state="open")
    return {
        "title": _("Periodic reviews (%(overdue)d overdue)") % {"overdue": counts["overdue"]}
        if counts["overdue"]
        else _("Periodic reviews"),
        "count": counts["open"],
        "url": reverse("recertification:reviews"),
        "empty": _("No periodic review is due."),
        "items": [
            {
                "label": f"{r.due:%m-%d} {r.entitlement.household.number} {r.entitlement.klass}",
                "url": reverse("recertification:review", args=[r.pk]),
                "overdue": r.due < today,
            }
            for r in qs[:5]
        ],
    }


def objections_open(user) -> dict:
    open_objections = Objection.objects.filter(status="open")
    qs = application_list(user=user).filter(
        Exists(open_objections.filter(application=OuterRef("pk")))
    )
    reviews = review_list(user=user).filter(
        Exists(open_objections.filter(notice__review=OuterRef("pk")))
    )
    return {
        "title": _("Objections to deal with"),
        "count": qs.count() + reviews.count(),
        "empty": _("No objection is open."),
        "items": [_item(a) for a in qs[:5]]
        + [
            {
                "label": f"{r.entitlement.household.number} {_('Termination notice')}",
                "url": reverse("recertification:review", args=[r.pk]),
            }
            for r in reviews[:5]
        ],
    }


def district_cases(user) -> dict:
    qs = application_list(user=user).filter(status=Application.Status.DISTRICT_REVIEW)
    undrawn = qs.filter(spot_check_draw__isnull=True, refusal_proposed_at="").count()
    action = None
    if undrawn:
        action = {
            "url": reverse("applications:spot_check_draw"),
            "label": _("Draw the spot-check sample (%(n)d cases not drawn)") % {"n": undrawn},
        }
    return _deadline_panel(
        _("Cases for district review"),
        _("Cases for district review (%(overdue)d overdue)"),
        qs,
        _("No case is waiting for district approval."),
        action=action,
    )


def terminations_to_decide(user) -> dict:
    qs = review_list(user=user).filter(status=Review.Status.DISTRICT).order_by("due")
    return {
        "title": _("Terminations to decide"),
        "count": qs.count(),
        "empty": _("No termination is waiting for the district."),
        "items": [
            {
                "label": f"{r.entitlement.household.number} {r.reason[:20]}",
                "url": reverse("recertification:review", args=[r.pk]),
            }
            for r in qs[:5]
        ],
    }


def spot_checks_to_do(user) -> dict:
    qs = (
        application_list(user=user)
        .filter(status=Application.Status.DISTRICT_REVIEW, spot_checked=True)
        .exclude(visits__kind="spot_check")
    )
    return {
        "title": _("Home checks to do"),
        "count": qs.count(),
        "empty": _("No spot check is waiting."),
        "items": [_item(a) for a in qs[:5]],
    }


def payrolls_to_approve(user) -> dict:
    qs = payroll_list(user=user).filter(status=Payroll.Status.DRAFT).order_by("month", "id")
    return {
        "title": _("Payrolls to approve"),
        "count": qs.count(),
        "url": reverse("payments:payrolls") + "?status=draft",
        "empty": _("No payroll is waiting for approval."),
        "items": [_payroll_item(p) for p in qs[:5]],
    }


def payrolls_in_progress(user) -> dict:
    """The funds officer's payrolls not yet reconciled: generating, draft, approved, sent."""
    qs = payroll_list(user=user).filter(
        status__in=[
            Payroll.Status.GENERATING,
            Payroll.Status.DRAFT,
            Payroll.Status.APPROVED,
            Payroll.Status.EXPORTED,
            Payroll.Status.FAILED,
        ]
    )
    return {
        "title": _("Payrolls under way"),
        "count": qs.count(),
        "url": reverse("payments:payrolls"),
        "empty": _("No payroll is under way: generate this month's from the payrolls page."),
        "items": [_payroll_item(p) for p in qs.order_by("month", "id")[:5]],
    }


def _payroll_item(payroll) -> dict:
    return {
        "label": f"{payroll.month:%Y-%m} {payroll.get_programme_display()} · "
        f"{payroll.get_status_display()}",
        "url": reverse("payments:payroll", args=[payroll.pk]),
    }


def failed_payments(user) -> dict:
    qs = payments_to_fix(user=user)
    return {
        "title": _("Failed and held payments"),
        "count": qs.count(),
        "url": reverse("payments:to_fix"),
        "empty": _("Every payment reached its account."),
        "items": [
            {
                "label": f"{line.household.number} {line.month:%Y-%m} {line.amount} · "
                f"{line.get_status_display()}",
                "url": reverse("payments:to_fix"),
            }
            for line in qs[:5]
        ],
    }


def payment_checks_open(user) -> dict:
    qs = payment_check_list(user=user).filter(
        status__in=[PaymentCheck.Status.OPEN, PaymentCheck.Status.DISCREPANCY]
    )
    discrepancies = qs.filter(status=PaymentCheck.Status.DISCREPANCY).count()
    return {
        "title": _("Payment checks (%(n)d discrepancies)") % {"n": discrepancies}
        if discrepancies
        else _("Payment checks"),
        "count": qs.count(),
        "url": reverse("payments:checks")
        + ("?state=discrepancy" if discrepancies and user.role == Role.TOWNSHIP_REVIEWER else ""),
        "empty": _("No payment check is waiting."),
        "items": [],
    }


def overpayments_open(user) -> dict:
    qs = overpayment_list(user=user).filter(status="open")
    return {
        "title": _("Overpayments to recover"),
        "count": qs.count(),
        "url": reverse("payments:overpayments"),
        "empty": _("No overpayment to recover."),
        "items": [],
    }


def _item(application) -> dict:
    return {
        "label": f"{application.number} {application.get_programme_display()}",
        "url": reverse("applications:detail", args=[application.pk]),
    }


# role → its panels, in the order the home page shows them
_WINDOW = [township_cases, received_today, waiting_for_materials, referrals_due, leads_to_follow]
PANELS = {
    Role.CLERK: [*_WINDOW, failed_payments, payment_checks_open],
    Role.TOWNSHIP_REVIEWER: [
        *_WINDOW,
        reviews_due,
        objections_open,
        emergency_paperwork,
        failed_payments,
        payment_checks_open,
        overpayments_open,
    ],
    Role.DISTRICT_APPROVER: [
        district_cases,
        spot_checks_to_do,
        terminations_to_decide,
        payrolls_to_approve,
    ],
    Role.DISTRICT_FINANCE: [payrolls_in_progress],
    Role.VILLAGE_WORKER: [reported_by_me],
}


def panels_for(user) -> list[dict]:
    return [panel(user) for panel in PANELS.get(user.role, [])]
