"""The application's state machine, readable in one screen (DESIGN.md §4).

(from, action) → (to, the roles that may do it, the clock it starts). A clock is the policy
figure (eligibility.PolicyValue kind) that sets the new step's deadline; ``None`` keeps the
whole-process deadline. Extra conditions (an open objection, the spot-check, separation of
duties) live in ``workflow``; this table says who may move a case where."""

from typing import NamedTuple

from accounts.models import Role

from .models import OPEN_STATUSES, Application


class Step(NamedTuple):
    to: str
    roles: tuple[str, ...]
    clock: str | None = None


S = Application.Status
WINDOW = (Role.CLERK, Role.TOWNSHIP_REVIEWER)
TOWNSHIP = (Role.TOWNSHIP_REVIEWER,)
DISTRICT = (Role.DISTRICT_APPROVER,)
OPEN = tuple(S(status) for status in OPEN_STATUSES)

TRANSITIONS: dict[tuple[str, str], Step] = {
    # the window
    (S.NEEDS_MATERIALS, "complete_materials"): Step(S.RECEIVED, WINDOW),
    (S.RECEIVED, "mark_missing"): Step(S.NEEDS_MATERIALS, WINDOW),
    (S.RECEIVED, "withdraw"): Step(S.WITHDRAWN, WINDOW),
    (S.NEEDS_MATERIALS, "withdraw"): Step(S.WITHDRAWN, WINDOW),
    # the township
    (S.RECEIVED, "start_investigation"): Step(S.INVESTIGATING, WINDOW, "investigation_workdays"),
    (S.RECEIVED, "emergency_approve"): Step(S.APPROVED, TOWNSHIP),
    (S.INVESTIGATING, "complete_investigation"): Step(
        S.TOWNSHIP_REVIEW, WINDOW, "township_review_workdays"
    ),
    (S.INVESTIGATING, "send_to_appraisal"): Step(S.APPRAISAL, WINDOW, "appraisal_workdays"),
    (S.INVESTIGATING, "refuse"): Step(S.REJECTED, TOWNSHIP, "letter_workdays"),
    (S.INVESTIGATING, "propose_refusal"): Step(
        S.DISTRICT_REVIEW, TOWNSHIP, "district_review_workdays"
    ),
    (S.APPRAISAL, "appraisal_agreed"): Step(S.TOWNSHIP_REVIEW, WINDOW, "township_review_workdays"),
    (S.APPRAISAL, "appraisal_contested"): Step(S.INVESTIGATING, WINDOW, "investigation_workdays"),
    (S.TOWNSHIP_REVIEW, "post_notice"): Step(S.NOTICED, TOWNSHIP, "notice_days"),
    (S.TOWNSHIP_REVIEW, "township_approve"): Step(S.APPROVED, TOWNSHIP),
    (S.TOWNSHIP_REVIEW, "refer_to_district"): Step(
        S.DISTRICT_REVIEW, TOWNSHIP, "district_review_workdays"
    ),
    (S.TOWNSHIP_REVIEW, "refuse"): Step(S.REJECTED, TOWNSHIP, "letter_workdays"),
    (S.TOWNSHIP_REVIEW, "propose_refusal"): Step(
        S.DISTRICT_REVIEW, TOWNSHIP, "district_review_workdays"
    ),
    (S.NOTICED, "reinvestigate"): Step(S.INVESTIGATING, TOWNSHIP, "reinvestigation_workdays"),
    (S.NOTICED, "end_notice"): Step(
        S.DISTRICT_REVIEW, (*TOWNSHIP, *DISTRICT), "district_review_workdays"
    ),
    (S.REJECTED, "recheck"): Step(S.INVESTIGATING, TOWNSHIP, "investigation_workdays"),
    # the district
    (S.DISTRICT_REVIEW, "approve"): Step(S.APPROVED, DISTRICT),
    (S.DISTRICT_REVIEW, "reject"): Step(S.REJECTED, DISTRICT, "letter_workdays"),
    # A proposed refusal that the district does not confirm goes back to the step it was
    # proposed at (workflow checks which): the investigation is not skipped.
    (S.DISTRICT_REVIEW, "return_to_township"): Step(
        S.TOWNSHIP_REVIEW, DISTRICT, "township_review_workdays"
    ),
    (S.DISTRICT_REVIEW, "return_to_investigation"): Step(
        S.INVESTIGATING, DISTRICT, "reinvestigation_workdays"
    ),
}

# 特困 has its own limits (特困人员认定办法): the same steps, other clocks. The township's
# steps (investigation, appraisal, its review) share its 15 working days from acceptance, and
# there is no extension (the 45 working days are 低保's).
TEKUN_CLOCKS = {"district_review_workdays": "tekun_district_workdays"}
TEKUN_TOWNSHIP_STEPS = frozenset(
    {"investigation_workdays", "appraisal_workdays", "township_review_workdays"}
)
TEKUN_TOWNSHIP_CLOCK = "tekun_township_workdays"

# Actions only a service triggers (from the materials form or the appraisal record), never a
# button or an API call of their own.
INTERNAL = frozenset(
    {"complete_materials", "mark_missing", "appraisal_agreed", "appraisal_contested"}
)

# Every role that moves a case at some step (the API refuses the others before reading).
ACTING_ROLES = tuple(sorted({role for step in TRANSITIONS.values() for role in step.roles}))

# Actions that do not move the case but are transitions all the same (checked, locked,
# recorded): extending the whole-process deadline once.
EXTEND_ROLES = (*TOWNSHIP, *DISTRICT)


def target(status: str, action: str, role: str) -> str | None:
    """The status ``action`` leads to from ``status`` for ``role``; None if not allowed."""
    step = TRANSITIONS.get((status, action))
    return step.to if step and role in step.roles else None


def actions_for(status: str, role: str) -> list[str]:
    """What ``role`` may do to a case in ``status`` (before the extra conditions)."""
    return [
        action
        for (state, action), step in TRANSITIONS.items()
        if state == status and role in step.roles
    ]
