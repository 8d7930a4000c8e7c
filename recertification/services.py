"""Periodic reviews (复核) as casework (DESIGN.md §7): the township records the visit or the
household's declaration, reassesses, and decides: continue, adjust, suspend or terminate.
Also: a change reported by the household, a reviewer's class override, and recomputing every
entitlement when a new standard takes effect. The nightly jobs are in ``nightly``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import in_jurisdiction
from applications import flows
from beneficiaries import people
from beneficiaries.models import Entitlement, Household
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.money import parse_amount
from core.months import add_months, next_month
from eligibility.selectors import household_case, policy_figure
from eligibility.services import assessment_run
from eligibility.values import money
from notices import services as notices
from notices.models import Notice

from .classes import class_for_entitlement, review_months_for
from .models import Review
from .selectors import LIVE, OPEN_REVIEW
from .timeline import entitlement_terminate
from .timeline import record_change as _change

# --- Reviews: the township's casework ------------------------------------------------------------


def _review_locked(
    actor,
    review: Review,
    expected_version: int | None = None,
    *,
    roles=flows.WINDOW,
    status: str = Review.Status.OPEN,
    wrong_state: str = "",
) -> Review:
    """The review row locked for this transaction, after the jurisdiction, role, version and
    state checks every review action makes."""
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("entitlement__household__region")
        .get(pk=review.pk)
    )
    if not in_jurisdiction(actor, review.entitlement.household.region.code):
        raise OutOfScopeError(_("This review is outside your jurisdiction."))
    if actor.role not in roles:
        raise OutOfScopeError(_("Your role may not do this."))
    if expected_version is not None and review.version != expected_version:
        raise ConflictError(
            _("Someone else has just acted on this review; reload the page to see its state.")
        )
    if review.status != status:
        raise ConflictError(wrong_state or _("This review has already been decided."))
    return review


def _save_and_record(actor, review: Review, from_state: str, reason) -> None:
    """Save a review's change of status and record it in the audit log (same transaction)."""
    review.version += 1
    review._history_user = actor
    review.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=review,
        from_state=from_state,
        to_state=review.status,
        reason=str(reason),
    )


def _reopen(review: Review) -> None:
    """Back to the township for a new decision."""
    review.status, review.outcome, review.reason = Review.Status.OPEN, "", ""
    review.decided_at = review.decided_by = None


@transaction.atomic
def review_record_visit(*, actor, review: Review, visited_on: dt.date, findings: str) -> Review:
    """The home visit or the household's declaration for this review."""
    review = _review_locked(actor, review)
    if not findings.strip():
        raise ValidationFailed(
            [("findings", _("Write down what the visit or declaration showed."))]
        )
    earliest = timezone.localtime(review.opened_at).date() - dt.timedelta(days=90)
    if visited_on < earliest:
        raise ValidationFailed(
            [
                (
                    "visited_on",
                    _("The visit must be recent: on or after %(day)s.") % {"day": earliest},
                )
            ]
        )
    if visited_on > timezone.localdate():
        raise ValidationFailed([("visited_on", _("The date cannot be in the future."))])
    review.visited_on, review.findings = visited_on, findings.strip()
    review.visit_recorded_by = actor
    review.version += 1
    review._history_user = actor
    review.save(update_fields=["visited_on", "findings", "visit_recorded_by", "version"])
    return review


@transaction.atomic
def review_assess(*, actor, review: Review) -> Review:
    """Re-run the means test with the standards in force today."""
    review = _review_locked(actor, review)
    entitlement = review.entitlement
    programme = entitlement.programme
    if programme not in ("dibao", "tekun", "expenditure"):
        raise ValidationFailed([("", _("This programme is not reassessed."))])
    review.assessment = assessment_run(
        actor=actor,
        case=household_case(
            household=entitlement.household,
            programme=programme,
            as_of=timezone.localdate(),
            single_member=entitlement.member.id_number if entitlement.member_id else "",
        ),
        household=entitlement.household,
    )
    review.version += 1
    review._history_user = actor
    review.save(update_fields=["assessment", "version"])
    return review


# Who decides a periodic review: the township reviewer, or the district approver (the
# township may have a single reviewer, who must not decide a visit they recorded).
DECIDERS = (Role.TOWNSHIP_REVIEWER, Role.DISTRICT_APPROVER)


@transaction.atomic
def review_decide(
    *,
    actor,
    review: Review,
    expected_version: int,
    outcome: str,
    reason: str = "",
    new_amount=None,
    new_class: str = "",
) -> Review:
    """End a review: continue, adjust (amount and/or class, from next month), suspend (from
    next month) or terminate (after a 7-day public notice). Only the township reviewer
    decides (or, when the township's reviewer recorded the visit, another township reviewer
    or the district approver); the home visit or declaration and the new assessment come
    first."""
    if actor.role not in DECIDERS:
        raise OutOfScopeError(_("Only the township reviewer or the district approver decides."))
    review = _review_locked(actor, review, expected_version, roles=DECIDERS)
    errors = []
    if review.visited_on is None:
        errors.append(("visited_on", _("Record the home visit or the declaration first.")))
    if review.assessment_id is None and review.entitlement.programme != "temporary":
        errors.append(("assessment", _("Run the assessment first.")))
    if outcome not in Review.Outcome.values:
        errors.append(("outcome", _("Choose the outcome.")))
    if errors:
        raise ValidationFailed(errors)
    if recorded_the_visit(review, actor):
        raise OutOfScopeError(
            _("You recorded this review's visit; another member of staff must decide it.")
        )
    entitlement = Entitlement.objects.select_for_update().get(pk=review.entitlement_id)
    today = timezone.localdate()
    month = next_month(today)
    reason = reason.strip()
    suspended = entitlement.status == Entitlement.Status.SUSPENDED
    assessed = _assessed(review)
    phase_out = outcome == Review.Outcome.PHASE_OUT
    ends_or_stops = (Review.Outcome.SUSPEND, Review.Outcome.TERMINATE, Review.Outcome.PHASE_OUT)
    if outcome in ends_or_stops and not reason:
        raise ValidationFailed([("reason", _("Write the reason; the household is told it."))])
    if suspended and outcome == Review.Outcome.SUSPEND:
        raise ValidationFailed(
            [("outcome", _("The payment is already suspended: continue keeps it so."))]
        )
    if not suspended and outcome == Review.Outcome.RESUME:
        raise ValidationFailed([("outcome", _("The payment is not suspended."))])
    if (
        outcome in (Review.Outcome.CONTINUE, Review.Outcome.RESUME)
        and assessed is None
        and review.assessment_id
        and not reason
    ):
        raise ValidationFailed(
            [("reason", _("The assessment finds the household ineligible; say why it goes on."))]
        )
    if (
        outcome == Review.Outcome.RESUME
        and assessed is not None
        and assessed != entitlement.monthly_amount
        and not reason
    ):
        raise ValidationFailed(
            [
                (
                    "reason",
                    _(
                        "The assessment now gives %(amount)s yuan: adjust the amount, or say why "
                        "the old amount resumes."
                    )
                    % {"amount": assessed},
                )
            ]
        )
    replaced = []
    if phase_out:
        replaced = _phase_out(actor, review, entitlement, reason, today, month, assessed)
    if outcome == Review.Outcome.ADJUST:
        replaced = _adjust(
            actor, review, entitlement, new_amount, new_class, reason, today, month, assessed
        )
    if outcome == Review.Outcome.SUSPEND:
        _change(
            entitlement, "status", month, entitlement.status, "suspended", reason, review, actor
        )
        entitlement.status = Entitlement.Status.SUSPENDED
    if suspended and outcome in (Review.Outcome.RESUME, Review.Outcome.ADJUST):
        _change(
            entitlement,
            "status",
            month,
            "suspended",
            "active",
            reason or _("Payment resumed"),
            review,
            actor,
        )
        entitlement.status = Entitlement.Status.ACTIVE
    if outcome == Review.Outcome.TERMINATE:
        notice = post_notice_for_review(review, entitlement, today)
        review.status = Review.Status.NOTICED
        audit_reason = _("Termination noticed until %(day)s: %(reason)s") % {
            "day": notice.ends_on.isoformat(),
            "reason": reason,
        }
    elif phase_out:
        review.status = Review.Status.DECIDED
        audit_reason = _("Phased out: paid until %(month)s: %(reason)s") % {
            "month": f"{entitlement.end_month:%Y-%m}",
            "reason": reason,
        }
    else:
        review.status = Review.Status.DECIDED
        audit_reason = reason or Review.Outcome(outcome).label
        due = add_months(month, review_months_for(entitlement.klass, today, entitlement.household))
        if entitlement.status in LIVE and due != entitlement.next_review:
            _change(
                entitlement,
                "review",
                month,
                entitlement.next_review,
                due,
                audit_reason,
                review,
                actor,
            )
            entitlement.next_review = due
    entitlement._history_user = actor
    entitlement.save()
    notices.standing_changed(entitlement)
    review.outcome, review.reason = outcome, reason
    review.decided_at, review.decided_by = timezone.now(), actor
    _save_and_record(actor, review, Review.Status.OPEN, audit_reason)
    if outcome == Review.Outcome.TERMINATE:
        transaction.on_commit(notices.public_changed)
    for change in replaced:
        if change.source.startswith("standard:"):
            # A new standard entered for a later month was replaced by this decision: the
            # amount from that month must be decided again under it, not silently dropped.
            review_open(
                entitlement,
                _("A new standard applies from %(month)s: decide the amount from then.")
                % {"month": f"{change.effective_month:%Y-%m}"},
                due=change.effective_month,
            )
    return review


def recorded_the_visit(review: Review, user) -> bool:
    """Whether ``user`` ever recorded this review's visit (re-saving does not wash it)."""
    return review.history.filter(visit_recorded_by=user).exists()


def _assessed(review: Review) -> Decimal | None:
    """The monthly amount the review's assessment gives; None without one or when it finds
    the household ineligible."""
    if review.assessment_id is None or not review.assessment.result.get("eligible"):
        return None
    value = review.assessment.result.get("monthly_amount")
    return Decimal(value) if value is not None else None


def _adjust(
    actor, review, entitlement, new_amount, new_class, reason, today, month, assessed
) -> None:
    changed = False
    replaced: list = []
    if new_amount not in (None, ""):
        amount = parse_amount(new_amount, "new_amount")
        if amount != assessed and not reason:
            raise ValidationFailed(
                [
                    (
                        "reason",
                        _("The assessment gives %(amount)s yuan; say why the amount differs.")
                        % {"amount": assessed if assessed is not None else 0},
                    )
                ]
            )
        current = entitlement.amount_for(month) or entitlement.monthly_amount
        if amount != current:
            replaced = _change(
                entitlement,
                "amount",
                month,
                current,
                amount,
                reason or _("Review decision"),
                review,
                actor,
            )
            entitlement.monthly_amount = amount
            review.new_amount = amount
            changed = True
    if new_class:
        if new_class not in ("A", "B", "C"):
            raise ValidationFailed([("new_class", _("Choose class A, B or C."))])
        if new_class != entitlement.klass:
            _change(
                entitlement,
                "class",
                month,
                entitlement.klass,
                new_class,
                reason or _("Review decision"),
                review,
                actor,
            )
            entitlement.klass = new_class
            # A reviewer's class stays when it differs from what the rule derives.
            entitlement.class_overridden = new_class != class_for_entitlement(entitlement, today)
            review.new_class = new_class
            changed = True
    if not changed:
        raise ValidationFailed(
            [("new_amount", _("Enter a new amount or class, or choose to continue unchanged."))]
        )
    return replaced


def _phase_out(actor, review, entitlement, reason, today, month, assessed) -> list:
    """渐退: income is above the standard because a member found work. Payment goes on for
    the policy number of months at the policy share, then ends; the end month is on the
    timeline from today."""
    if entitlement.status != Entitlement.Status.ACTIVE or entitlement.end_month:
        raise ValidationFailed([("outcome", _("Only a running payment can be phased out."))])
    if review.assessment_id is None or assessed is not None:
        raise ValidationFailed(
            [
                (
                    "outcome",
                    _("The assessment still finds the household eligible: adjust the amount."),
                )
            ]
        )
    refusals = {
        f["code"] for f in review.assessment.result.get("findings", []) if f["disqualifying"]
    }
    if refusals != {"income_above_standard"}:
        raise ValidationFailed(
            [
                (
                    "outcome",
                    _(
                        "Phase-out is for a household whose income rose above the standard; the "
                        "assessment excludes it for other reasons: terminate instead."
                    ),
                )
            ]
        )
    household = entitlement.household
    code, residence = household.region.code, household.residence_type
    months = int(policy_figure("phase_out_months", today, code, residence))
    share = policy_figure("phase_out_share", today, code, residence)
    amount = money(entitlement.monthly_amount * share)
    replaced = []
    cause = _("Phase-out after a member found work: %(reason)s") % {"reason": reason}
    if amount != entitlement.monthly_amount:
        replaced = _change(
            entitlement, "amount", month, entitlement.monthly_amount, amount, cause, review, actor
        )
        entitlement.monthly_amount = amount
    end = add_months(month, months)
    replaced += _change(entitlement, "status", end, "active", "terminated", cause, review, actor)
    entitlement.end_month = add_months(month, months - 1)
    return replaced


def post_notice_for_review(review: Review, entitlement: Entitlement, today: dt.date) -> Notice:
    household = entitlement.household
    return notices.notice_post(
        review=review,
        kind=Notice.Kind.TERMINATION,
        starts_on=today,
        ends_on=today + dt.timedelta(days=int(policy_figure("notice_days", today))),
        village_code=household.region.code,
        head_name=entitlement.member.name
        if entitlement.member_id
        else (household.head.name if household.head else ""),
        household_size=review.assessment.result["household_size"]
        if review.assessment_id
        else household.members.filter(is_current=True).filter(people.counted_q()).count(),
        programme=entitlement.programme,
        amount=entitlement.monthly_amount,
    )


@transaction.atomic
def review_report_change(*, actor, household: Household, change: str) -> list[Review]:
    """家庭主动申报: the household reports a change at the window; each live entitlement gets
    a review (or the open one notes the report)."""
    if actor.role not in flows.WINDOW or not in_jurisdiction(actor, household.region.code):
        raise OutOfScopeError(_("Only the township window records a reported change."))
    if not change.strip():
        raise ValidationFailed([("change", _("Describe the change the household reports."))])
    entitlements = list(
        Entitlement.objects.select_for_update().filter(household=household, status__in=LIVE)
    )
    if not entitlements:
        raise ValidationFailed([("change", _("The household receives no assistance to review."))])
    today = timezone.localdate()
    due = today + dt.timedelta(days=int(policy_figure("review_open_days", today)))
    reviews = []
    for entitlement in entitlements:
        opened = review_open(entitlement, change.strip(), due)
        review = Review.objects.get(entitlement=entitlement, status__in=OPEN_REVIEW)
        if not opened:
            review.reported_change = "\n".join(filter(None, [review.reported_change, change]))
            review.save(update_fields=["reported_change"])
        reviews.append(review)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=review,
            reason=_("Change reported by the household: %(change)s") % {"change": change[:150]},
        )
    return reviews


@transaction.atomic
def entitlement_override_class(*, actor, entitlement: Entitlement, klass: str, reason: str):
    """The reviewer sets the class against the rule, with a reason; the nightly derivation
    leaves it alone from then on."""
    entitlement = (
        Entitlement.objects.select_for_update()
        .select_related("household__region")
        .get(pk=entitlement.pk)
    )
    if actor.role != Role.TOWNSHIP_REVIEWER or not in_jurisdiction(
        actor, entitlement.household.region.code
    ):
        raise OutOfScopeError(_("Only the township reviewer sets a class."))
    if entitlement.status not in LIVE:
        raise ConflictError(_("This assistance has ended."))
    if klass not in ("A", "B", "C"):
        raise ValidationFailed([("klass", _("Choose class A, B or C."))])
    if not reason.strip():
        raise ValidationFailed([("reason", _("Write why the class differs from the rule."))])
    today = timezone.localdate()
    if klass != entitlement.klass:
        _change(
            entitlement,
            "class",
            next_month(today),
            entitlement.klass,
            klass,
            _("Set by the reviewer: %(reason)s") % {"reason": reason.strip()},
            None,
            actor,
        )
    entitlement.klass, entitlement.class_overridden = klass, True
    entitlement.next_review = min(
        entitlement.next_review,
        add_months(next_month(today), review_months_for(klass, today, entitlement.household)),
    )
    entitlement._history_user = actor
    entitlement.save(update_fields=["klass", "class_overridden", "next_review"])
    return entitlement


def review_open(entitlement: Entitlement, change: str, due: dt.date) -> int:
    """Open a reported-change review unless one is open (the unique index decides a race)."""
    if Review.objects.filter(entitlement=entitlement, status__in=OPEN_REVIEW).exists():
        return 0
    try:
        with transaction.atomic():
            Review.objects.create(
                entitlement=entitlement,
                township=entitlement.household.region.parent,
                kind=Review.Kind.REPORTED,
                opened_at=timezone.now(),
                due=due,
                reported_change=change,
            )
    except IntegrityError:
        return 0
    return 1


@transaction.atomic
def review_termination_withdraw(*, actor, review: Review, expected_version: int, reason: str):
    """An objection to a termination notice holds water: the notice comes down, the objections
    are settled by re-checking, and the review is open again for a new decision."""
    review = _review_locked(
        actor,
        review,
        expected_version,
        roles=(Role.TOWNSHIP_REVIEWER,),
        status=Review.Status.NOTICED,
        wrong_state=_("No termination notice is up for this review."),
    )
    if not reason.strip():
        raise ValidationFailed([("reason", _("Write why the termination is withdrawn."))])
    notices.notices_take_down(review=review)
    notices.objections_resolve(actor=actor, review=review, resolution=reason.strip(), taken_up=True)
    _reopen(review)
    _save_and_record(
        actor,
        review,
        Review.Status.NOTICED,
        _("Termination withdrawn: %(reason)s") % {"reason": reason.strip()},
    )
    transaction.on_commit(notices.public_changed)
    return review


@transaction.atomic
def review_termination_decide(
    *, actor, review: Review, expected_version: int, confirm: bool, reason: str = ""
) -> Review:
    """The district decides a termination proposed by the township after its public notice:
    confirmed, payment ends from next month; refused (with a reason), the review is open
    again at the township."""
    review = _review_locked(
        actor,
        review,
        expected_version,
        roles=(Role.DISTRICT_APPROVER,),
        status=Review.Status.DISTRICT,
        wrong_state=_("No termination is waiting for the district here."),
    )
    reason = reason.strip()
    if not confirm and not reason:
        raise ValidationFailed([("reason", _("Write why the termination is refused."))])
    entitlement = Entitlement.objects.select_for_update().get(pk=review.entitlement_id)
    if confirm:
        entitlement_terminate(entitlement, review, timezone.localdate(), actor)
        review.status = Review.Status.DECIDED  # decided_by stays the township's proposer
        audit_reason = reason or _("Termination confirmed by the district")
        transaction.on_commit(notices.public_changed)
    else:
        _reopen(review)
        review.reason = audit_reason = _("Termination refused by the district: %(reason)s") % {
            "reason": reason
        }
    _save_and_record(actor, review, Review.Status.DISTRICT, audit_reason)
    return review
