"""What the review steps record besides the status change: home visits, the assessment
snapshot, democratic appraisals, extensions and the district's
spot-check draw. Each write is one transaction; status changes go through
``workflow.transition``."""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import in_jurisdiction
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from eligibility import rules
from eligibility.selectors import household_case, policy_figure
from eligibility.services import assessment_run
from notices import selectors as notice_board

from . import flows, services
from .models import Application, Appraisal, HomeVisit, Programme, SpotCheckDraw
from .workflow import _locked, _require_reason, transition

S = Application.Status


# --- records made during the steps --------------------------------------------------------------


@transaction.atomic
def home_visit_record(
    *,
    actor,
    application: Application,
    kind: str,
    visited_on: dt.date,
    second_staff,
    findings: str,
) -> HomeVisit:
    """入户调查 by two staff: the recorder and a colleague with an account (so that neither
    can later approve the case)."""
    case = (
        Application.objects.select_for_update(of=("self",))
        .select_related("household__region")
        .get(pk=application.pk)
    )
    if not in_jurisdiction(actor, case.household.region.code):
        raise OutOfScopeError(_("This application is outside your jurisdiction."))
    if kind == HomeVisit.Kind.INVESTIGATION:
        # After an emergency payment the investigation is the paperwork done afterwards.
        paperwork = case.emergency and case.status == S.APPROVED
        allowed = (case.status == S.INVESTIGATING or paperwork) and actor.role in flows.WINDOW
    else:
        allowed = (
            case.status == S.DISTRICT_REVIEW
            and actor.role == Role.DISTRICT_APPROVER
            and case.spot_checked
        )
    if not allowed:
        raise ConflictError(_("A home visit of this kind cannot be recorded now."))
    errors = []
    if (
        second_staff is None
        or second_staff.pk == actor.pk
        or not second_staff.is_active
        or not colleagues(case).filter(pk=second_staff.pk).exists()
    ):
        errors.append(("second_staff", _("A home visit needs a second member of staff.")))
    if not findings.strip():
        errors.append(("findings", _("Write down what was seen.")))
    if visited_on > timezone.localdate():
        errors.append(("visited_on", _("The visit date cannot be in the future.")))
    elif visited_on < timezone.localtime(case.received_at).date():
        errors.append(
            ("visited_on", _("The visit date cannot be before the application was received."))
        )
    if errors:
        raise ValidationFailed(errors)
    visit = HomeVisit.objects.create(
        application=case,
        kind=kind,
        visited_on=visited_on,
        recorded_by=actor,
        second_staff=second_staff,
        second_visitor=(second_staff.full_name or second_staff.username)[:64],
        findings=findings.strip(),
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=case,
        reason=_("Home visit recorded: %(kind)s") % {"kind": visit.get_kind_display()},
    )
    return visit


def colleagues(case: Application):
    """Staff who may go on a home visit for this case: anyone working in its township or
    district (window, township and district staff, village workers)."""
    from accounts.models import User

    region = case.household.region
    codes = [region.code, region.parent.code, region.parent.parent.code]
    return User.objects.filter(
        is_active=True,
        jurisdiction__code__in=codes,
        role__in=[Role.CLERK, Role.TOWNSHIP_REVIEWER, Role.DISTRICT_APPROVER, Role.VILLAGE_WORKER],
    ).order_by("role", "full_name")


@transaction.atomic
def investigation_assess(
    *, actor, application: Application, hardship: rules.Hardship | None = None
) -> Application:
    """Run the means test on the household as registered today and keep the snapshot."""
    case = (
        Application.objects.select_for_update(of=("self",))
        .select_related("household__region")
        .get(pk=application.pk)
    )
    if not in_jurisdiction(actor, case.household.region.code) or actor.role not in flows.WINDOW:
        raise OutOfScopeError(_("Only the township assesses during the investigation."))
    if case.status != S.INVESTIGATING:
        raise ConflictError(_("The assessment is run during the investigation."))
    programme = case.programme
    if programme == Programme.TEMPORARY and hardship is None:
        raise ValidationFailed([("type", _("Choose the hardship type and applicant class."))])
    assessment = assessment_run(
        actor=actor,
        case=household_case(
            household=case.household,
            programme=programme,
            as_of=timezone.localdate(),
            hardship=hardship,
            single_member=case.single_member.id_number if case.single_member_id else "",
        ),
        household=case.household,
    )
    case.assessment = assessment
    case.version += 1
    case._history_user = actor
    case.save(update_fields=["assessment", "version"])
    return case


@transaction.atomic
def appraisal_record(
    *,
    actor,
    application: Application,
    expected_version: int,
    held_on: dt.date,
    panel_size: int,
    representatives: int,
    conclusion: str,
    note: str = "",
) -> Application:
    """民主评议: representatives at least two thirds of the panel; a contested conclusion
    sends the case back to investigation."""
    errors = []
    if panel_size < 3:
        errors.append(("panel_size", _("A panel has at least 3 members.")))
    if representatives > panel_size or representatives * 3 < panel_size * 2:
        errors.append(
            (
                "representatives",
                _("Village/resident representatives must be at least two thirds of the panel."),
            )
        )
    if conclusion not in Appraisal.Conclusion.values:
        errors.append(("conclusion", _("Choose the conclusion.")))
    if errors:
        raise ValidationFailed(errors)
    case = _locked(actor, application, expected_version)
    if case.status != S.APPRAISAL:
        raise ConflictError(_("This case is not waiting for an appraisal."))
    Appraisal.objects.create(
        application=case,
        held_on=held_on,
        panel_size=panel_size,
        representatives=representatives,
        conclusion=conclusion,
        note=note.strip(),
        recorded_by=actor,
    )
    agreed = conclusion == Appraisal.Conclusion.AGREED
    action = "appraisal_agreed" if agreed else "appraisal_contested"
    return transition(
        actor=actor,
        application=case,
        action=action,
        expected_version=case.version,
        reason=note,
    )


@transaction.atomic
def application_extend(*, actor, application: Application, expected_version: int, reason: str):
    """The whole process may be extended once, from 30 to 45 working days, with a reason
    (not 特困, whose limits have no extension)."""
    case = _locked(actor, application, expected_version)
    if actor.role not in flows.EXTEND_ROLES:
        raise OutOfScopeError(_("Your role may not do this."))
    if case.status not in flows.OPEN:
        raise ConflictError(_("Only an open case can be extended."))
    if case.extended_reason:
        raise ConflictError(_("This case has already been extended once."))
    _require_reason(reason.strip(), _("Write why more time is needed."))
    if case.accepted_on is None:
        raise ConflictError(_("The time limit starts when the materials are complete."))
    if case.programme == Programme.TEKUN:
        raise ConflictError(
            _("特困 has no extension: the township and the district each have their own limit.")
        )
    case.decision_due = services.process_due(case.programme, case.accepted_on, extended=True)
    case.extended_reason = reason.strip()
    case.version += 1
    case._history_user = actor
    case.save(update_fields=["decision_due", "extended_reason", "version"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=case,
        from_state=case.status,
        to_state=case.status,
        reason=_("Extended to %(day)s: %(reason)s")
        % {"day": case.decision_due.isoformat(), "reason": reason.strip()},
    )
    return case


# --- the district's spot-check ------------------------------------------------------------------


def spot_check_sample(
    population: list[int], forced: list[int], seed: int, share: Decimal
) -> list[int]:
    """Every forced case plus random others until at least ``share`` of the population is
    in the sample. The same inputs give the same sample."""
    population, forced = sorted(population), sorted(set(forced))
    wanted = math.ceil(Decimal(len(population)) * share)
    rest = [pk for pk in population if pk not in set(forced)]
    # Reproducibility, not secrecy, is wanted here: the seed is published with the draw.
    size = max(0, min(len(rest), wanted - len(forced)))
    extra = random.Random(seed).sample(rest, size)  # noqa: S311
    return sorted(forced + extra)


@transaction.atomic
def spot_check_draw(*, actor, seed: int | None = None) -> SpotCheckDraw | None:
    """Draw the sample among the cases in the actor's district waiting for district review
    that have not been drawn yet, proposed refusals aside. 单独登记, emergency and objected
    cases are always in it."""
    if actor.role != Role.DISTRICT_APPROVER:
        raise OutOfScopeError(_("Only the district draws the spot-check sample."))
    district = actor.jurisdiction.code
    cases = list(
        Application.objects.select_for_update(of=("self",))
        .filter(
            status=S.DISTRICT_REVIEW,
            spot_check_draw__isnull=True,
            refusal_proposed_at="",  # the sample checks what is to be approved
            household__region__code__startswith=district[:6],
        )
        .order_by("id")
    )
    if not cases:
        return None
    objected = notice_board.objected_applications(applications=cases)
    from eligibility.models import VerificationFinding

    flagged = set(
        VerificationFinding.objects.filter(
            household__in=[c.household_id for c in cases]
        ).values_list("household_id", flat=True)
    )
    forced = [
        c.pk
        for c in cases
        if c.separately_registered or c.emergency or c.pk in objected or c.household_id in flagged
    ]
    share = policy_figure("spot_check_share", timezone.localdate(), district)
    seed = secrets.randbits(62) if seed is None else seed
    population = [c.pk for c in cases]
    selected = spot_check_sample(population, forced, seed, share)
    draw = SpotCheckDraw.objects.create(
        district_code=district,
        seed=seed,
        share=share,
        population=population,
        forced=sorted(forced),
        selected=selected,
        drawn_by=actor,
    )
    chosen = set(selected)
    for case in cases:
        case.spot_check_draw, case.spot_checked = draw, case.pk in chosen
        case.version += 1
    Application.objects.bulk_update(cases, ["spot_check_draw", "spot_checked", "version"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=draw,
        reason=_("Spot-check sample drawn: %(n)d of %(total)d cases (seed %(seed)d)")
        % {"n": len(selected), "total": len(population), "seed": seed},
    )
    return draw
