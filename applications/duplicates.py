"""One case at a time: a household (or a member helped alone) has at most one open application
per programme, and none for what it already receives. Intake checks it, and so does reopening
a refused case; the partial unique constraints on open applications are the last guard."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _

from beneficiaries.models import Household
from beneficiaries.selectors import LIVING_ALLOWANCES, overlapping_entitlements
from core.exceptions import ValidationFailed

from . import flows
from .models import Application, Programme


def no_duplicates(household: Household, programmes, single_member=None) -> None:
    """One open application per programme and household (低保 and 支出型 count as one), and none
    for what the household already receives (临时救助 is one-off, so only an open one counts).
    A 单人保 application only meets the household's own and the same member's."""

    labels = dict(Programme.choices)
    errors = []
    for programme in programmes:
        member = single_member if programme == Programme.DIBAO else None
        alike = LIVING_ALLOWANCES if programme in LIVING_ALLOWANCES else {programme}
        open_now = Application.objects.filter(
            household=household, programme__in=sorted(alike), status__in=flows.OPEN
        )
        if member is not None:
            open_now = open_now.filter(
                models.Q(single_member__isnull=True) | models.Q(single_member=member)
            )
        for other in sorted(set(open_now.values_list("programme", flat=True))):
            errors.append(
                (
                    "programmes",
                    _("An application for %(p)s is already open.") % {"p": labels[other]},
                )
            )
        if errors:
            continue
        receiving = overlapping_entitlements(
            household=household, programme=programme, member=member
        )
        for other in sorted(set(receiving.values_list("programme", flat=True))):
            errors.append(
                ("programmes", _("The household already receives %(p)s.") % {"p": labels[other]})
            )
    if errors:
        raise ValidationFailed(list(dict.fromkeys(errors)))
