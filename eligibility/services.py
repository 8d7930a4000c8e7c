from __future__ import annotations

from django.db import transaction
from django.utils.translation import get_language, override
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed

from . import rules, snapshot
from .models import Assessment
from .selectors import policy_for


def assessment_preview(*, case: rules.Case) -> tuple[rules.Result, rules.Policy, dict]:
    """Run the rules with the figures in force for the case; writes nothing."""
    policy, sources = policy_for(
        as_of=case.as_of,
        residence=case.residence,
        district_code=case.district_code,
        programme=case.programme,
    )
    if case.programme == "temporary":
        if case.hardship is None:
            raise ValidationFailed(
                [
                    (
                        "hardship",
                        _(
                            "Temporary assistance needs the hardship: "
                            "type, applicant class and expense."
                        ),
                    )
                ]
            )
        key = f"{case.hardship.applicant_class}:{case.hardship.type}"
        if key not in policy.temporary_rates:
            raise ValidationFailed(
                [
                    (
                        "hardship",
                        _("No temporary-assistance rate is in force for class %(key)s.")
                        % {"key": key},
                    )
                ]
            )
    return rules.assess(case, policy), policy, sources


@transaction.atomic
def assessment_run(*, actor, case: rules.Case, household=None) -> Assessment:
    """Assess and keep the snapshot: inputs, the figures used (with their rows) and result."""
    result, policy, sources = assessment_preview(case=case)
    return Assessment.objects.create(
        household=household,
        programme=case.programme,
        as_of=case.as_of,
        inputs=snapshot.case_to_json(case),
        policy={**snapshot.policy_to_json(policy, sources), "language": get_language()},
        result=result.as_json(),
        created_by=actor,
    )


def assessment_replay(assessment: Assessment) -> dict:
    """The stored assessment run again from its own snapshot (no current policy involved)."""
    case = snapshot.case_from_json(assessment.inputs)
    # The findings' sentences were written in the language of the day; so is the replay.
    with override(assessment.policy.get("language")):
        return rules.assess(case, snapshot.policy_from_json(assessment.policy)).as_json()
