from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import role_required
from beneficiaries import people
from beneficiaries import selectors as registry
from beneficiaries.views import READ_ROLES
from core.exceptions import DomainError

from . import rules
from .models import PolicyValue, Programme, TemporaryRate
from .selectors import household_case
from .services import assessment_preview


class HardshipForm(forms.Form):
    type = forms.ChoiceField(label=_("Hardship type"), choices=TemporaryRate.Hardship.choices)
    applicant_class = forms.ChoiceField(
        label=_("Applicant class"), choices=TemporaryRate.ApplicantClass.choices
    )
    expense = forms.DecimalField(
        label=_("Expense (yuan)"), min_value=0, decimal_places=2, required=False
    )


@role_required(*READ_ROLES)
def household_assessment(request, pk):
    """What the household would get today under each programme, and why."""
    household = registry.household_get_for_user(user=request.user, pk=pk)
    today = timezone.localdate()
    hardship_form = HardshipForm(request.GET or None)
    outcomes = []
    for programme in (
        Programme.DIBAO,
        Programme.TEKUN,
        Programme.EXPENDITURE,
        Programme.TEMPORARY,
    ):
        hardship = None
        if programme == Programme.TEMPORARY:
            if not hardship_form.is_valid():
                outcomes.append({"programme": programme, "needs_hardship": True})
                continue
            data = hardship_form.cleaned_data
            hardship = rules.Hardship(data["type"], data["applicant_class"], data["expense"])
        case = household_case(
            household=household, programme=programme, as_of=today, hardship=hardship
        )
        try:
            result, _policy, sources = assessment_preview(case=case)
        except DomainError as exc:
            outcomes.append({"programme": programme, "error": exc.message})
            continue
        outcomes.append(
            {"programme": programme, "result": result.as_json(), "assumed": _assumed(sources)}
        )
    labels = dict(Programme.choices)
    for outcome in outcomes:
        outcome["label"] = labels[outcome["programme"]]
    outcomes[1:1] = _single_member_outcomes(household, today)
    return render(
        request,
        "eligibility/household.html",
        {
            "household": household,
            "today": today,
            "outcomes": outcomes,
            "hardship_form": hardship_form,
        },
    )


def _single_member_outcomes(household, today) -> list[dict]:
    """单人保: each member who could be helped alone, assessed alone (after 低保)."""
    outcomes = []
    for member in household.members.filter(is_current=True).order_by("id"):
        if not (
            member.counted
            and people.qualifies_alone(
                kind=member.disability_type,
                grade=member.disability_grade,
                serious_illness=member.serious_illness,
            )
        ):
            continue
        case = household_case(
            household=household,
            programme=Programme.DIBAO,
            as_of=today,
            single_member=member.id_number,
        )
        try:
            result, _policy, sources = assessment_preview(case=case)
        except DomainError as exc:
            outcomes.append({"label": _single_label(member), "error": exc.message})
            continue
        outcomes.append(
            {
                "programme": Programme.DIBAO,
                "label": _single_label(member),
                "result": result.as_json(),
                "assumed": _assumed(sources),
            }
        )
    return outcomes


def _single_label(member) -> str:
    return _("低保 for %(name)s alone (单人保)") % {"name": member.name}


def _assumed(sources: dict) -> list[str]:
    """Labels of the figures used that are seeded assumptions, not yet set by the city."""
    kinds = dict(PolicyValue.Kind.choices)
    labels = {str(kinds[k]) for k, v in sources.items() if v["assumed"] and k in kinds}
    if any(v["assumed"] for k, v in sources.items() if k.startswith("rate:")):
        labels.add(str(_("the temporary-assistance table by class and hardship")))
    return sorted(labels)
