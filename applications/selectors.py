import datetime as dt

from django.db.models import Q
from django.http import Http404

from accounts.scoping import scope_to_jurisdiction
from core.models import AuditEvent
from eligibility.selectors import policy_figure
from notices import selectors as notice_board
from notices.selectors import can_see_objectors

from .models import Application, Referral


def application_list(*, user):
    return scope_to_jurisdiction(
        Application.objects.all(), user=user, code_field="household__region__code"
    ).select_related("household__region", "household__head", "township")


def application_get_for_user(*, user, pk: int) -> Application:
    application = application_list(user=user).select_related("received_by").filter(pk=pk).first()
    if application is None:
        raise Http404
    return application


def referral_list(*, user):
    return scope_to_jurisdiction(
        Referral.objects.all(), user=user, code_field="household__region__code"
    ).select_related("household", "department")


def lead_list(*, user):
    from .models import Lead

    return scope_to_jurisdiction(
        Lead.objects.all(), user=user, code_field="village__code"
    ).select_related("village", "household")


def application_search(
    *,
    user,
    q: str = "",
    status: str = "",
    programme: str = "",
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
):
    qs = application_list(user=user)
    if q := q.strip():
        qs = qs.filter(Q(number=q) | Q(household__number=q))
    if status:
        qs = qs.filter(status=status)
    if programme:
        qs = qs.filter(programme=programme)
    if received_from:
        qs = qs.filter(received_at__date__gte=received_from)
    if received_to:
        qs = qs.filter(received_at__date__lte=received_to)
    return qs


def application_events(*, application: Application):
    """The application's status changes, oldest first (from the audit log)."""
    return (
        AuditEvent.objects.filter(
            case_key=application.audit_case_key, action=AuditEvent.Action.TRANSITION
        )
        .select_related("actor")
        .order_by("occurred_at", "id")
    )


def review_context(*, application: Application, user) -> dict:
    """What the case page shows about the review: the records, the deadlines, and which of
    the transition table's actions apply to this case for this user now."""
    from django.utils import timezone

    from beneficiaries.models import Entitlement
    from notices.models import Objection

    from . import flows, workflow
    from .models import Programme

    S = Application.Status
    today = timezone.localdate()
    temporary = application.programme == Programme.TEMPORARY
    objections = list(notice_board.objections_of(application=application))
    open_objections = [o for o in objections if o.status == Objection.Status.OPEN]
    notices = list(notice_board.notices_of(application=application))
    current_notice = next((n for n in notices if n.status == "open"), None)
    actions = set(flows.actions_for(application.status, user.role))
    actions -= {"complete_materials", "mark_missing", "withdraw"}
    not_applicable = (
        {"post_notice", "propose_refusal"}
        if temporary
        else {"township_approve", "refer_to_district", "emergency_approve", "refuse"}
    )
    actions -= not_applicable
    if application.refusal_proposed_at:
        actions.discard("approve")
    if application.refusal_proposed_at != S.TOWNSHIP_REVIEW:
        actions.discard("return_to_township")
    if application.refusal_proposed_at != S.INVESTIGATING:
        actions.discard("return_to_investigation")
    if application.status == S.INVESTIGATING:
        appraisal = application.needs_appraisal or policy_figure("appraisal_always", today)
        actions.discard("complete_investigation" if appraisal else "send_to_appraisal")
    if not open_objections:
        actions.discard("reinvestigate")
    if current_notice is None or today <= current_notice.ends_on:
        actions.discard("end_notice")
    if application.rejected_at_step != S.INVESTIGATING:
        actions.discard("recheck")
    actions -= {"appraisal_agreed", "appraisal_contested"}  # the appraisal form does these
    is_open = application.status in flows.OPEN
    computed = workflow.assessed_amount(application)
    return {
        "today": today,
        "actions": actions,
        "visits": application.visits.select_related("recorded_by"),
        "appraisals": application.appraisals.all(),
        "notices": notices,
        "current_notice": current_notice,
        "objections": objections,
        "open_objections": open_objections,
        "computed_amount": computed,
        "findings": workflow.disqualifying_findings(application)
        if application.status == S.INVESTIGATING
        else [],
        "entitlement": Entitlement.objects.filter(
            household=application.household, source=application.number
        ).first(),
        "step_overdue": is_open and application.step_due and application.step_due < today,
        "process_overdue": is_open
        and application.decision_due is not None
        and application.decision_due < today,
        "can_extend": is_open
        and not application.extended_reason
        and application.accepted_on is not None
        and application.programme != Programme.TEKUN
        and user.role in flows.EXTEND_ROLES,
        "can_visit": (
            (
                application.status == S.INVESTIGATING
                or (application.emergency and application.status == S.APPROVED)
            )
            and user.role in flows.WINDOW
        )
        or (
            application.status == S.DISTRICT_REVIEW
            and application.spot_checked
            and user.role == "district_approver"
        ),
        "can_assess": application.status == S.INVESTIGATING and user.role in flows.WINDOW,
        "can_appraise": application.status == S.APPRAISAL and user.role in flows.WINDOW,
        "can_dismiss": bool(open_objections) and user.role in flows.TOWNSHIP,
        "can_see_objectors": can_see_objectors(user),
        "colleagues": _colleagues(application, user),
        "temporary": temporary,
    }


def _colleagues(application, user):
    from . import review

    return review.colleagues(application).exclude(pk=user.pk)
