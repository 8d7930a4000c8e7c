"""The window's work queues on the clerk's (and township reviewer's) home page."""

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.home import register_panel
from accounts.models import Role
from core.workdays import WorkdayCalendar

from .models import Application, Lead, Referral
from .selectors import application_list, lead_list, referral_list

SOON_WORKDAYS = 3


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
        "items": [
            {
                "label": f"{r.due:%m-%d} {r.get_kind_display()} · {r.household.number}",
                "url": reverse("beneficiaries:detail", args=[r.household_id]),
            }
            for r in qs[:5]
        ],
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
        "items": [
            {
                "label": f"{lead.contact_due:%m-%d} {lead.person_name}",
                "url": reverse("applications:leads"),
            }
            for lead in qs[:5]
        ],
    }


def reported_by_me(user) -> dict:
    qs = lead_list(user=user).filter(reported_by=user)
    return {
        "title": _("People in urgent need reported"),
        "count": qs.count(),
        "url": reverse("applications:leads"),
        "empty": _("You have not reported anyone yet."),
    }


def _item(application) -> dict:
    return {
        "label": f"{application.number} {application.get_programme_display()}",
        "url": reverse("applications:detail", args=[application.pk]),
    }


def register() -> None:
    for role in (Role.CLERK, Role.TOWNSHIP_REVIEWER):
        for panel in (received_today, waiting_for_materials, referrals_due, leads_to_follow):
            register_panel(role, panel)
    register_panel(Role.VILLAGE_WORKER, reported_by_me)
