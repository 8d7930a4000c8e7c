"""Review and approval after acceptance (DESIGN.md §4): investigation, democratic appraisal,
township review, public notice and objections, the district's spot-check and decision.

``transition`` is the one door every status change goes through: it checks the role, the
jurisdiction and the current state, locks the row, checks the version the user saw, runs the
step's own rules (``_RULES``), sets the next deadline and records the event, all in one
transaction. A second click or a second approver at the same moment finds the version moved
and gets a ConflictError; the state changes once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scoping import in_jurisdiction
from beneficiaries import people
from beneficiaries.models import Entitlement, Household
from beneficiaries.selectors import overlapping_entitlements
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.money import parse_amount
from core.months import add_months
from core.workdays import WorkdayCalendar
from eligibility.models import VerificationFinding
from eligibility.selectors import policy_figure
from notices import selectors as notice_board
from notices import services as notices
from notices.models import Notice, Objection

from . import flows
from .duplicates import no_duplicates
from .models import Application, HomeVisit, Programme

S = Application.Status
CLASSES = ("A", "B", "C")


def step_deadline(
    application: Application,
    clock: str,
    today: dt.date,
    start: dt.date | None = None,
    *,
    figure=policy_figure,
    calendar: WorkdayCalendar | None = None,
) -> dt.date:
    """When the step a clock starts is due, counted from ``start`` (default today) with the
    figure in force ``today``. Notices count calendar days (the date returned is the last day
    up), everything else working days; neither counts the starting day. A caller counting
    many passes its own ``figure`` lookup and ``calendar``."""
    start = start or today
    if application.programme == Programme.TEKUN:
        if clock in flows.TEKUN_TOWNSHIP_STEPS and application.accepted_on:
            clock, start = flows.TEKUN_TOWNSHIP_CLOCK, application.accepted_on
        clock = flows.TEKUN_CLOCKS.get(clock, clock)
    days = int(figure(clock, today))
    if clock == "notice_days":
        # The posting day does not count (民法典 §201): up for ``days`` full days after it.
        return start + dt.timedelta(days=days)
    calendar = calendar or WorkdayCalendar.load(start.year, start.year + 1)
    return calendar.add_workdays(start, days)


# --- the one door -----------------------------------------------------------------------------


@transaction.atomic
def transition(
    *,
    actor,
    application: Application,
    action: str,
    expected_version: int,
    reason: str = "",
    now: dt.datetime | None = None,
    **data,
) -> Application:
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    if actor is None and action not in SYSTEM_ACTIONS:
        raise OutOfScopeError(_("Your role may not do this."))
    case = _locked(actor, application, expected_version)
    step = flows.TRANSITIONS.get((case.status, action))
    if step is None:
        raise ConflictError(
            _("This case is at “%(status)s”; that cannot be done now.")
            % {"status": case.get_status_display()}
        )
    if actor is not None and actor.role not in step.roles:
        raise OutOfScopeError(_("Your role may not do this."))
    rule = _RULES.get(action)
    if rule is not None:
        if action in ("appraisal_agreed", "appraisal_contested"):
            data["action"] = action
        rule(actor, case, reason.strip(), today, now, **data)
    from_state = case.status
    case.status = step.to
    case.step_started_at = now
    if step.clock:
        # The first investigation runs from acceptance, every other step from today.
        start = today
        if action == "start_investigation":
            start = case.accepted_on or timezone.localtime(case.received_at).date()
        due = step_deadline(case, step.clock, today, start)
        case.step_clock, case.step_from = step.clock, start
        if step.to == S.REJECTED:
            case.letter_due, case.step_due = due, None
        else:
            case.step_due = due
    elif step.to in (S.APPROVED, S.TOWNSHIP_REVIEW):
        case.step_due = None
        case.step_clock, case.step_from = "", None
    case.version += 1
    case._history_user = actor
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:  # the one-open-case constraints: a case opened meanwhile
        raise ConflictError(
            _("Another application of this kind is open for the household; reload the page.")
        ) from None
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=case,
        from_state=from_state,
        to_state=case.status,
        reason=reason.strip() or _action_label(action),
    )
    return case


# Actions the nightly job may take itself (actor None, recorded as the system).
SYSTEM_ACTIONS = frozenset({"end_notice"})


def _locked(actor, application: Application, expected_version: int) -> Application:
    case = (
        Application.objects.select_for_update(of=("self",))
        .select_related("household__region", "household__head")
        .get(pk=application.pk)
    )
    if actor is not None and not in_jurisdiction(actor, case.household.region.code):
        raise OutOfScopeError(_("This application is outside your jurisdiction."))
    if case.version != expected_version:
        raise ConflictError(
            _("Someone else has just acted on this case; reload the page to see its state.")
        )
    return case


ACTION_LABELS = {
    "complete_materials": gettext_lazy("Materials completed"),
    "mark_missing": gettext_lazy("Material marked missing"),
    "withdraw": gettext_lazy("Withdraw"),
    "start_investigation": gettext_lazy("Start the investigation"),
    "emergency_approve": gettext_lazy("Pay first (emergency)"),
    "complete_investigation": gettext_lazy("Investigation complete: to township review"),
    "send_to_appraisal": gettext_lazy("Investigation complete: to democratic appraisal"),
    "refuse": gettext_lazy("Refuse in writing"),
    "propose_refusal": gettext_lazy("Propose a refusal to the district"),
    "return_to_township": gettext_lazy("Return to the township"),
    "return_to_investigation": gettext_lazy("Return to the township to investigate again"),
    "appraisal_agreed": gettext_lazy("Appraisal agreed"),
    "appraisal_contested": gettext_lazy("Appraisal contested: investigate again"),
    "post_notice": gettext_lazy("Post the public notice"),
    "township_approve": gettext_lazy("Approve (within the township's limit)"),
    "refer_to_district": gettext_lazy("Send to the district"),
    "reinvestigate": gettext_lazy("Re-investigate after the objection"),
    "end_notice": gettext_lazy("Notice period over: to district review"),
    "recheck": gettext_lazy("Re-check at the applicant's request"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
}


def _action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


# --- the rules of each step -------------------------------------------------------------------


def _require_reason(reason: str, message: str) -> None:
    if not reason:
        raise ValidationFailed([("reason", message)])


def _since_step(case: Application):
    return case.step_started_at or case.received_at


def _investigation_done(actor, case: Application) -> None:
    """This investigation's own work: a visit and an assessment made since the case entered
    it (a re-investigation cannot lean on the first one's records)."""
    errors = []
    since = _since_step(case)
    if not case.visits.filter(kind=HomeVisit.Kind.INVESTIGATION, recorded_at__gte=since).exists():
        errors.append(("visit", _("Record the home visit (two staff) first.")))
    if case.assessment_id is None or case.assessment.created_at < since:
        errors.append(("assessment", _("Run the assessment first.")))
    if errors:
        raise ValidationFailed(errors)
    if disqualifying_findings(case):
        raise ValidationFailed(
            [
                (
                    "",
                    _(
                        "Verification findings disqualify this household: refuse it (for 低保 and "
                        "特困, propose the refusal to the district)."
                    ),
                )
            ]
        )
    case.investigated_by = actor
    notices.objections_resolve(
        actor=actor,
        application=case,
        statuses=[Objection.Status.REINVESTIGATING],
        resolution=_("Re-investigated"),
    )


def _appraisal_needed(case: Application, today: dt.date) -> bool:
    return case.needs_appraisal or policy_figure("appraisal_always", today) >= 1


def _complete_investigation(actor, case, reason, today, now, **_data):
    if _appraisal_needed(case, today):
        raise ValidationFailed([("", _("This case needs a democratic appraisal first."))])
    _investigation_done(actor, case)


def _send_to_appraisal(actor, case, reason, today, now, **_data):
    _investigation_done(actor, case)


def _decide(actor, case: Application, reason: str, now) -> None:
    case.decided_at, case.decided_by, case.decision_reason = now, actor, reason


def _refuse(actor, case, reason, today, now, **_data):
    """The township refuses only 临时救助 (within its delegated authority)."""
    if case.programme != Programme.TEMPORARY:
        raise ValidationFailed(
            [("", _("The district decides a refusal of this programme: propose it."))]
        )
    _require_reason(reason, _("Write the reason; it is printed on the refusal letter."))
    case.rejected_at_step = case.status
    _decide(actor, case, reason, now)


def _propose_refusal(actor, case, reason, today, now, **_data):
    """低保, 特困, 支出型: the township proposes the refusal with its reasons; the district
    decides it (2021 procedure), and the township then delivers the letter."""
    if case.programme == Programme.TEMPORARY:
        raise ValidationFailed([("", _("The township refuses 临时救助 itself."))])
    _require_reason(reason, _("Write the reasons for the refusal; the district reads them."))
    case.refusal_proposed_at, case.refusal_reason = case.status, reason
    case.proposed_amount = None


def _returned(step: str):
    """The district returns a proposed refusal to the step the township proposed it at; the
    case is drawn for the spot-check afresh when it comes back (an objection to its notice
    then forces the home check)."""

    def rule(actor, case, reason, today, now, **_data):
        if case.refusal_proposed_at != step:
            raise ValidationFailed(
                [("", _("Only a refusal the township proposed at this step is returned there."))]
            )
        _require_reason(reason, _("Write what the township is to look at again."))
        case.refusal_proposed_at, case.refusal_reason = "", ""
        case.spot_check_draw, case.spot_checked = None, False

    return rule


def _appraisal_recorded(actor, case, reason, today, now, action="", **_data):
    """Only the appraisal's own conclusion moves the case (``review.appraisal_record``)."""
    latest = case.appraisals.filter(recorded_at__gte=_since_step(case)).order_by("id").last()
    wanted = "agreed" if action == "appraisal_agreed" else "contested"
    if latest is None or latest.conclusion != wanted:
        raise ValidationFailed([("", _("Record the appraisal first."))])


def _proposal(case: Application, today: dt.date, data: dict) -> None:
    """Township review: amount (the assessment's; a different figure, or any figure when the
    assessment found the household ineligible, needs a reason), class A/B/C, opinion."""
    errors = []
    try:
        amount = parse_amount(data.get("amount", ""))
    except ValidationFailed as exc:
        amount = None
        errors.extend(exc.errors)
    if amount is not None and case.programme == Programme.TEMPORARY:
        cap = policy_figure("temporary_cap", today, case.household.region.code)
        if amount > cap:
            errors.append(
                ("amount", _("At most %(cap)s yuan for one 临时救助 case.") % {"cap": cap})
            )
    klass = data.get("klass", "")
    if case.programme != Programme.TEMPORARY and klass not in CLASSES:
        errors.append(("klass", _("Choose class A, B or C.")))
    computed = assessed_amount(case)
    override = (data.get("override_reason") or "").strip()
    if amount is not None and amount != computed and not override:
        errors.append(
            (
                "override_reason",
                _("The assessment gives %(amount)s yuan; say why the amount differs.")
                % {"amount": computed if computed is not None else 0},
            )
        )
    if errors:
        raise ValidationFailed(errors)
    case.proposed_amount, case.proposed_class = amount, klass
    case.amount_override_reason = override if amount != computed else ""
    case.township_opinion = (data.get("opinion") or "").strip()


def assessed_amount(case: Application) -> Decimal | None:
    """What the assessment gives; None without one or when it found the household
    ineligible."""
    if case.assessment_id is None or not case.assessment.result.get("eligible"):
        return None
    result = case.assessment.result
    value = result.get("monthly_amount") or result.get("one_off_amount")
    return Decimal(value) if value is not None else None


def _post_notice(actor, case, reason, today, now, **data):
    if case.programme == Programme.TEMPORARY:
        raise ValidationFailed([("", _("临时救助 is approved without a public notice."))])
    _proposal(case, today, data)
    post_notice(case, Notice.Kind.APPROVAL, case.proposed_amount, today)


def post_notice(case: Application, kind: str, amount: Decimal, today: dt.date) -> Notice:
    household = case.household
    return notices.notice_post(
        application=case,
        kind=kind,
        starts_on=today,
        ends_on=step_deadline(case, "notice_days", today),
        village_code=household.region.code,
        head_name=_public_name(case),
        household_size=counted_size(case),
        programme=case.programme,
        amount=amount,
    )


def _public_name(case: Application) -> str:
    """Whose name the notice carries (masked by the notices app): the member helped alone
    (单人保), or the head of the household."""
    if case.single_member_id:
        return case.single_member.name
    return case.household.head.name if case.household.head else ""


def counted_size(case: Application) -> int:
    """The household size the decision counts (the assessment's), never the registered one:
    members away in prison are not on the notice, a student away is."""
    if case.assessment_id is not None:
        return case.assessment.result["household_size"]
    return case.household.members.filter(is_current=True).filter(people.counted_q()).count()


def _township_limit_ok(case: Application, today: dt.date) -> bool:
    limit = policy_figure("township_temporary_limit", today, case.household.region.code)
    return case.proposed_amount is not None and case.proposed_amount <= limit


def investigators(case: Application) -> set[int]:
    """Everyone who investigated the case, in any round: who started or completed an
    investigation, both staff of every investigation visit, and whoever ran an assessment."""
    people = {case.investigated_by_id}
    for recorder, second in case.visits.filter(kind=HomeVisit.Kind.INVESTIGATION).values_list(
        "recorded_by_id", "second_staff_id"
    ):
        people |= {recorder, second}
    events = AuditEvent.objects.filter(case_key=case.audit_case_key)
    people |= set(
        events.filter(action=AuditEvent.Action.TRANSITION)
        .filter(Q(from_state=S.INVESTIGATING) | Q(to_state=S.INVESTIGATING))
        .values_list("actor_id", flat=True)
    )
    # Each assessment is saved on the case: its history records who ran it.
    people |= set(
        events.filter(
            action=AuditEvent.Action.UPDATE, changes__has_key="assessment_id"
        ).values_list("actor_id", flat=True)
    )
    if case.assessment_id:
        people.add(case.assessment.created_by_id)
    return people - {None}


def _not_the_investigator(actor, case: Application) -> None:
    if actor.pk in investigators(case):
        raise OutOfScopeError(
            _("You investigated this case; another member of staff must approve it.")
        )


def _separately_registered_to_district(case: Application) -> None:
    if case.separately_registered:
        raise ValidationFailed(
            [("", _("A separately registered case is decided by the district."))]
        )


def _township_approve(actor, case, reason, today, now, **data):
    if case.programme != Programme.TEMPORARY:
        raise ValidationFailed([("", _("Only 临时救助 is approved by the township."))])
    _separately_registered_to_district(case)
    _proposal(case, today, data)
    if not _township_limit_ok(case, today):
        raise ValidationFailed(
            [("amount", _("Above the township's delegated limit; send it to the district."))]
        )
    _not_the_investigator(actor, case)
    _decide(actor, case, reason, now)


def _refer_to_district(actor, case, reason, today, now, **data):
    if case.programme != Programme.TEMPORARY:
        raise ValidationFailed([("", _("Post the public notice; the district reviews after it."))])
    _proposal(case, today, data)


def _emergency_approve(actor, case, reason, today, now, **data):
    if case.programme != Programme.TEMPORARY:
        raise ValidationFailed([("", _("Only 临时救助 can be paid first in an emergency."))])
    _separately_registered_to_district(case)
    _require_reason(reason, _("Describe the emergency."))
    amount = parse_amount(data.get("amount", ""))
    # 先行救助 has a limit of its own in policy data (not the township's approval limit).
    cap = policy_figure("emergency_limit", today, case.household.region.code)
    if amount > cap:
        raise ValidationFailed(
            [("amount", _("The amount must be above 0 and at most %(cap)s yuan.") % {"cap": cap})]
        )
    case.emergency, case.proposed_amount = True, amount
    case.paperwork_due = step_deadline(case, "emergency_paperwork_workdays", today)
    _decide(actor, case, reason, now)


def _reinvestigate(actor, case, reason, today, now, **_data):
    if not notices.objections_reinvestigate(application=case):
        raise ValidationFailed([("", _("There is no open objection to investigate."))])
    notices.notices_take_down(application=case)
    case.needs_appraisal = True


def _end_notice(actor, case, reason, today, now, **_data):
    notice = notice_board.notice_open_for(application=case)
    if notice is None:
        raise ConflictError(_("No notice is posted for this case."))
    if today <= notice.ends_on:
        raise ValidationFailed(
            [("", _("The notice is up until %(day)s.") % {"day": notice.ends_on.isoformat()})]
        )
    if notice_board.objections_pending(application=case):
        raise ValidationFailed([("", _("An objection is open; deal with it first."))])
    notices.notice_close(notice=notice)


def _recheck(actor, case, reason, today, now, **_data):
    if case.rejected_at_step != S.INVESTIGATING:
        raise ValidationFailed(
            [("", _("Only a refusal on the verification findings can be re-checked here."))]
        )
    _require_reason(reason, _("Write what the applicant contests."))
    # The family may have applied again since the refusal: the case reopens only if nothing
    # of the kind is open or paid now (the household is locked as at intake).
    Household.objects.select_for_update().filter(pk=case.household_id).values_list("pk").first()
    try:
        no_duplicates(case.household, [case.programme], case.single_member)
    except ValidationFailed as exc:
        raise ConflictError(
            _("This case cannot be reopened: %(why)s") % {"why": exc.errors[0][1]}
        ) from None
    case.decided_at, case.decided_by, case.letter_due, case.rejected_at_step = (
        None,
        None,
        None,
        "",
    )
    case.refusal_proposed_at, case.refusal_reason = "", ""


def _approve(actor, case, reason, today, now, **_data):
    if case.refusal_proposed_at:
        raise ValidationFailed(
            [("", _("The township proposes a refusal: confirm it, or return the case to it."))]
        )
    _not_the_investigator(actor, case)
    if notice_board.objections_pending(application=case):
        raise ValidationFailed([("", _("An objection is open; the case cannot be approved."))])
    if case.spot_check_draw_id is None:
        raise ValidationFailed([("", _("Draw the district's spot-check sample first."))])
    if case.spot_checked and not case.visits.filter(kind=HomeVisit.Kind.SPOT_CHECK).exists():
        raise ValidationFailed(
            [("", _("This case is in the spot-check sample; record the home check first."))]
        )
    if case.proposed_amount is None:
        raise ValidationFailed([("", _("The township has not proposed an amount."))])
    _decide(actor, case, reason, now)
    if case.programme != Programme.TEMPORARY:
        entitlement_create(actor, case, today, now)


def _reject(actor, case, reason, today, now, **_data):
    """The district refuses (its own finding, or confirming the township's proposal); the
    township delivers the letter within the policy working days."""
    reason = reason or case.refusal_reason
    _require_reason(reason, _("Write the reason; it is printed on the decision letter."))
    case.rejected_at_step = case.refusal_proposed_at or case.status
    _decide(actor, case, reason, now)


def _materials_complete(actor, case, reason, today, now, **_data):
    if case.materials.filter(received=False, required=True).exists():
        raise ValidationFailed([("received", _("Some required material is still missing."))])


def _material_missing(actor, case, reason, today, now, **_data):
    if not case.materials.filter(received=False, required=True).exists():
        raise ValidationFailed([("received", _("Nothing is missing."))])


def _withdraw(actor, case, reason, today, now, **_data):
    _require_reason(reason, _("Enter why the application is withdrawn."))


_RULES = {
    "complete_materials": _materials_complete,
    "mark_missing": _material_missing,
    "withdraw": _withdraw,
    "start_investigation": None,
    "emergency_approve": _emergency_approve,
    "complete_investigation": _complete_investigation,
    "send_to_appraisal": _send_to_appraisal,
    "refuse": _refuse,
    "propose_refusal": _propose_refusal,
    "return_to_township": _returned(S.TOWNSHIP_REVIEW),
    "return_to_investigation": _returned(S.INVESTIGATING),
    "appraisal_agreed": _appraisal_recorded,
    "appraisal_contested": _appraisal_recorded,
    "post_notice": _post_notice,
    "township_approve": _township_approve,
    "refer_to_district": _refer_to_district,
    "reinvestigate": _reinvestigate,
    "end_notice": _end_notice,
    "recheck": _recheck,
    "approve": _approve,
    "reject": _reject,
}


# --- the entitlement an approval creates --------------------------------------------------------


def entitlement_create(actor, case: Application, today: dt.date, now) -> Entitlement:
    """Payment starts the month after approval; the first review is one class period later."""
    # Lock the household: approvals of its household and single-member cases are serialised,
    # so 低保 and 支出型, or a household's own and a member's alone, never both go live.
    Household.objects.select_for_update().filter(pk=case.household_id).values_list("pk").first()
    if overlapping_entitlements(
        household=case.household, programme=case.programme, member=case.single_member
    ).exists():
        raise ConflictError(_("The household already receives this assistance."))
    start = add_months(today.replace(day=1), 1)
    household = case.household
    months = int(
        policy_figure(
            f"review_months_{case.proposed_class.lower()}",
            today,
            household.region.code,
            household.residence_type,
        )
    )
    components = (
        case.assessment.result.get("components", [])
        if case.assessment_id and case.proposed_amount == assessed_amount(case)
        else [{"code": "decided", "amount": f"{case.proposed_amount}"}]
    )
    entitlement = Entitlement(
        household=case.household,
        programme=case.programme,
        member_id=case.single_member_id,
        monthly_amount=case.proposed_amount,
        components=components,
        klass=case.proposed_class,
        start_month=start,
        next_review=add_months(start, months),
        source=case.number,
        approved_at=now,
        approved_by=actor,
    )
    entitlement._history_user = actor
    try:
        with transaction.atomic():
            entitlement.save()
    except IntegrityError:  # a concurrent approval of another application won
        raise ConflictError(_("The household already receives this assistance.")) from None
    notices.standing_changed(entitlement)
    return entitlement


def disqualifying_findings(case: Application) -> list[VerificationFinding]:
    return disqualifying_findings_for(case.household)


def disqualifying_findings_for(household) -> list[VerificationFinding]:
    """Disqualifying findings of the latest verification run that covered the household."""
    latest = (
        VerificationFinding.objects.filter(household=household)
        .order_by("-run__created_at")
        .values_list("run_id", flat=True)
        .first()
    )
    if latest is None:
        return []
    return list(
        VerificationFinding.objects.filter(run_id=latest, household=household, disqualifying=True)
    )
