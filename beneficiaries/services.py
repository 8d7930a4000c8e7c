"""Every write to households and members. Each function is one transaction, checks the
actor's role and jurisdiction, and leaves an audit trail (history rows → audit log)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from accounts.scoping import in_jurisdiction
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.services import sequence_allocate
from regions.models import Region

from . import rules
from .models import (
    Entitlement,
    Household,
    HouseholdEvent,
    JobReferral,
    Member,
    MemberMove,
)

# Who may register and edit households (the window and the township).
WRITE_ROLES = frozenset({Role.CLERK, Role.TOWNSHIP_REVIEWER})
# Who may see full ID numbers, phone and bank account (each view is logged).
SENSITIVE_ROLES = frozenset(
    {Role.CLERK, Role.TOWNSHIP_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR}
)

HOUSEHOLD_FIELDS = (
    "address",
    "residence_type",
    "phone",
    "bank_name",
    "bank_account_name",
    "bank_account_number",
    "poverty_registered",
    "marginal",
    "employs_others",
    "separately_registered",
    "separate_registration_reason",
)
MEMBER_FIELDS = (
    "name",
    "id_number",
    "relation",
    "lives_with_household",
    "absence_reason",
    "hukou_local",
    "labour_capacity",
    "labour_capacity_reason",
    "disability_type",
    "disability_grade",
    "serious_illness",
    "studying_abroad_self_funded",
    "works_without_income_proof",
    *Member.DAILY_LIVING_ITEMS,
    "schooling",
    "employment",
)
# Member fields whose change can change the assistance (who counts, who can work).
REVIEWED_MEMBER_FIELDS = frozenset(
    {
        "lives_with_household",
        "absence_reason",
        "labour_capacity",
        "disability_type",
        "disability_grade",
        "serious_illness",
        "employment",
        "works_without_income_proof",
        "studying_abroad_self_funded",
    }
)
LIVING_FIELDS = frozenset({"lives_with_household", "absence_reason"})
# Household fields whose change can change the assistance (the standard is set by residence
# type and district).
REVIEWED_HOUSEHOLD_FIELDS = ("residence_type",)
# What the economics form replaces, in the order it replaces them.
_DUPLICATE_CONSTRAINTS = ("member_one_current_record_per_person", "beneficiaries_member.id_number")


class DuplicatePersonError(ValidationFailed):
    """An ID number is already a current member of another household."""

    status_code = 409
    default_code = "duplicate_person"


def can_write(user: User, region: Region) -> bool:
    return user.role in WRITE_ROLES and in_jurisdiction(user, region.code)


def _check_region(actor: User, region: Region) -> None:
    if not can_write(actor, region):
        raise OutOfScopeError(
            _("You may not register households in %(region)s.") % {"region": region.name}
        )
    if region.level != Region.Level.VILLAGE:
        raise ValidationFailed([("region", _("Choose a village or community."))])
    if not region.is_active:
        raise ValidationFailed(
            [
                (
                    "region",
                    _("%(region)s no longer takes new registrations.") % {"region": region.name},
                )
            ]
        )


def household_number_for(region: Region) -> str:
    """District code + an 8-digit counter per district, e.g. 50010300000042."""
    district = region.code[:6]
    (value,) = sequence_allocate(name=f"household:{district}", count=1)
    return f"{district}{value:08d}"


def _registered_elsewhere(members: list[dict], household: Household | None) -> dict[int, Member]:
    """Rows whose ID number is a current member of another household, by row index."""
    numbers = {rules.idnumber.normalize(m["id_number"]): i for i, m in enumerate(members)}
    clash = Member.objects.filter(id_number_digest__in=numbers, is_current=True).select_related(
        "household__region"
    )
    if household is not None:
        clash = clash.exclude(household=household)
    return {numbers[m.id_number]: m for m in clash}


def duplicate_message(existing: Member, actor: User) -> str:
    """Where the person is registered, as far as the actor may see, and what to do."""
    household = existing.household
    if in_jurisdiction(actor, household.region.code):
        return _(
            "This person is already registered in household %(number)s (%(village)s). To move "
            "them into this household, give the reason in “reason to move them in”."
        ) % {"number": household.number, "village": household.region.name}
    return _(
        "This person is already registered in another jurisdiction. To move them into this "
        "household, give the reason in “reason to move them in”; a second record cannot be "
        "created."
    )


def _validate(members: list[dict], elsewhere: dict[int, Member], actor: User) -> None:
    problems = rules.member_problems(members, today=timezone.localdate())
    if not problems:
        duplicates = [
            (f"members.{i}.id_number", duplicate_message(m, actor))
            for i, m in elsewhere.items()
            if not (members[i].get("move_reason") or "").strip()
        ]
        if duplicates:
            raise DuplicatePersonError(duplicates)
    if problems:
        raise ValidationFailed(problems)


def _member_values(data: dict) -> dict:
    values = {field: data[field] for field in MEMBER_FIELDS if field in data}
    values.update(rules.derived_member_fields(data, today=timezone.localdate()))
    return values


def _translate_integrity(exc: IntegrityError) -> None:
    if any(name in str(exc) for name in _DUPLICATE_CONSTRAINTS):
        raise DuplicatePersonError(
            [
                (
                    "members",
                    _(
                        "One of these ID numbers was registered elsewhere a moment ago. "
                        "Search for it and move the person instead."
                    ),
                )
            ]
        ) from exc
    raise ValidationFailed(
        [
            (
                "members",
                _("The data is inconsistent and was not saved: %(error)s")
                % {"error": str(exc).splitlines()[0]},
            )
        ]
    ) from exc


def household_create(
    *, actor: User, region: Region, fields: dict, members: list[dict]
) -> Household:
    """Register a household with its members in one go. A member whose ID number is already
    registered elsewhere is moved in (with ``move_reason``) instead of entered twice."""
    try:
        return _household_create(actor=actor, region=region, fields=fields, members=members)
    except IntegrityError as exc:
        _translate_integrity(exc)
        raise


@transaction.atomic
def _household_create(*, actor, region, fields, members) -> Household:
    _check_region(actor, region)
    elsewhere = _registered_elsewhere(members, None)
    _validate(members, elsewhere, actor)
    household = Household(
        region=region,
        number=household_number_for(region),
        created_by=actor,
        **{f: fields[f] for f in HOUSEHOLD_FIELDS if f in fields},
    )
    household._history_user = actor
    household.save()
    _save_members(actor, household, members, elsewhere, current={})
    return household


def _member_changed(household: Household, member: Member, changed: list[str]) -> None:
    """A change to who lives with the household, or to a member's work, health or
    disability, is reviewed; the detail names the fields and where living together went."""
    fields = "、".join(
        str(Member._meta.get_field(f).verbose_name) for f in changed if f in REVIEWED_MEMBER_FIELDS
    )
    if set(changed) & LIVING_FIELDS:
        where = _("lives with the household") if member.lives_with_household else _("lives away")
        kind, detail = HouseholdEvent.Kind.COUNTED, f"{member.name}: {fields} ({where})"
    else:
        kind, detail = HouseholdEvent.Kind.CIRCUMSTANCES, f"{member.name}: {fields}"
    household_event(household, kind, member, detail)


def _save_members(actor, household, members, elsewhere, current) -> None:
    """Create, update or move in each row; set the head."""
    head = None
    for i, data in enumerate(members):
        if i in elsewhere:
            member = _move_in(actor, elsewhere[i], household, data["relation"], data["move_reason"])
        else:
            member = current.get(data.get("id")) or Member(household=household)
            values = _member_values(data)
            changed = [f for f, v in values.items() if getattr(member, f) != v]
            for f in changed:
                setattr(member, f, values[f])
            joined = member.pk is None
            if joined or changed:
                member._history_user = actor
                member.save()
            if joined:
                household_event(household, HouseholdEvent.Kind.MEMBER_JOINED, member, member.name)
            elif set(changed) & REVIEWED_MEMBER_FIELDS:
                _member_changed(household, member, changed)
        if member.relation == Member.Relation.HEAD:
            head = member
    if household.head_id != (head.pk if head else None):
        household.head = head
        household._history_user = actor
        household.save(update_fields=["head", "updated_at"])


def household_update(
    *,
    actor: User,
    household: Household,
    expected_version: int,
    region: Region,
    fields: dict,
    members: list[dict],
    removals: dict[int, str] | None = None,
) -> Household:
    """Change a household and its members. ``members`` is the whole new list: a dict with an
    ``id`` updates that member (fields it leaves out keep their stored values), one without
    adds a member (or moves one in, with ``move_reason``). A current member left out leaves
    the register and needs a reason in ``removals`` ({member id: leave reason}); the record
    is kept. A stale ``expected_version`` is a conflict."""
    try:
        return _household_update(
            actor=actor,
            household=household,
            expected_version=expected_version,
            region=region,
            fields=fields,
            members=members,
            removals=removals or {},
        )
    except IntegrityError as exc:
        _translate_integrity(exc)
        raise


def _lock_for_edit(actor: User, household: Household, expected_version: int) -> Household:
    locked = Household.objects.select_for_update().select_related("region").get(pk=household.pk)
    if not can_write(actor, locked.region):
        raise OutOfScopeError(_("You may not change this household."))
    if locked.version != expected_version:
        last = (
            AuditEvent.objects.filter(case_key=locked.audit_case_key)
            .exclude(action=AuditEvent.Action.VIEW)
            .order_by("-occurred_at")
            .first()
        )
        who = last.actor_name if last and last.actor_name else _("someone else")
        raise ConflictError(
            _(
                "This household was changed by %(who)s while you were editing. Your changes were "
                "not saved: reload the page to see the current data, then enter your changes "
                "again."
            )
            % {"who": who}
        )
    return locked


@transaction.atomic
def _household_update(*, actor, household, expected_version, region, fields, members, removals):
    household = _lock_for_edit(actor, household, expected_version)
    if region.pk != household.region_id:
        _check_region(actor, region)
    current = {m.pk: m for m in household.members.filter(is_current=True)}
    if any(d.get("id") and d["id"] not in current for d in members):
        raise ConflictError(_("A member on this form is no longer in the household. Reload."))
    members = [
        {**{f: getattr(current[d["id"]], f) for f in MEMBER_FIELDS}, **d} if d.get("id") else d
        for d in members
    ]
    elsewhere = _registered_elsewhere(members, household)
    # Everyone leaving at once (the only member died) is recorded, not refused: the household
    # stays on the register without members and its assistance is reviewed.
    if members or set(current) - set(removals):
        _validate(members, elsewhere, actor)
    _remove_members(actor, current, {d["id"] for d in members if d.get("id")}, removals)
    _save_members(actor, household, members, elsewhere, current)
    moved = [str(household.region)] if region.pk != household.region_id else []
    household.region = region
    for f in HOUSEHOLD_FIELDS:
        if f in fields:
            if f in REVIEWED_HOUSEHOLD_FIELDS and getattr(household, f) != fields[f]:
                moved.append(str(Household._meta.get_field(f).verbose_name))
            setattr(household, f, fields[f])
    if moved:
        household_event(
            household,
            HouseholdEvent.Kind.RESIDENCE,
            None,
            _("%(changed)s now: %(region)s, %(residence)s")
            % {
                "changed": "、".join(moved),
                "region": region,
                "residence": household.get_residence_type_display(),
            },
        )
    household.version += 1
    household._history_user = actor
    household.save()
    return household


def household_event(household: Household, kind: str, member=None, detail: str = "") -> None:
    """Record a change the household's live assistance must be reviewed for (dynamic
    management picks it up). Nothing is recorded for a household that receives nothing."""
    live = Entitlement.objects.filter(status__in=["active", "suspended"])
    if not (
        live.filter(household=household).exists()
        or (member is not None and live.filter(member=member).exists())
    ):
        return
    HouseholdEvent.objects.create(
        household=household, kind=kind, member=member, detail=detail[:200]
    )


def _remove_members(actor, current: dict, kept: set, removals: dict[int, str]) -> None:
    leaving = [m for pk, m in current.items() if pk not in kept]
    # A removal that does not match anyone leaving is an error, never dropped in silence (a
    # death sent without the member list would otherwise be lost).
    if set(removals) - set(current):
        raise ConflictError(_("A member on this form is no longer in the household. Reload."))
    if set(removals) & kept:
        names = "、".join(current[pk].name for pk in sorted(set(removals) & kept))
        raise ValidationFailed(
            [
                (
                    "removed_members",
                    _("%(names)s are both kept and removed; send them once.") % {"names": names},
                )
            ]
        )
    missing = [m.name for m in leaving if removals.get(m.pk) not in Member.LeaveReason.values]
    if missing:
        raise ValidationFailed(
            [
                (
                    "members",
                    _("Say why %(names)s leave the household.") % {"names": "、".join(missing)},
                )
            ]
        )
    for member in leaving:
        member.is_current, member.leave_reason = False, removals[member.pk]
        member._history_user = actor
        member.save(update_fields=["is_current", "leave_reason"])
        died = member.leave_reason == Member.LeaveReason.DIED
        household_event(
            member.household,
            HouseholdEvent.Kind.MEMBER_DIED if died else HouseholdEvent.Kind.MEMBER_LEFT,
            member,
            f"{member.name}: {member.get_leave_reason_display()}",
        )
        # Their income ends with their membership.
        member.incomes.all().delete()


@transaction.atomic
def member_move(
    *, actor: User, member: Member, to_household: Household, relation: str, reason: str
) -> MemberMove:
    """Move a registered person into another household with a recorded reason, instead of
    registering them twice. The window that serves the family does it: the actor must be
    able to write the destination; the origin may be anywhere in the city, and its
    jurisdiction sees the move in its audit log."""
    if not reason.strip():
        raise ValidationFailed([("reason", _("Give the reason for the move."))])
    if relation == Member.Relation.HEAD:
        raise ValidationFailed([("relation", _("The household already has a head."))])
    target = Household.objects.select_for_update().select_related("region").get(pk=to_household.pk)
    if not can_write(actor, target.region):
        raise OutOfScopeError(_("You may not change this household."))
    _move_in(actor, member, target, relation, reason)
    target.version += 1
    target._history_user = actor
    target.save(update_fields=["version", "updated_at"])
    return MemberMove.objects.filter(member=member).latest("moved_at")


def _move_in(actor: User, member: Member, target: Household, relation: str, reason: str):
    """Move ``member`` out of their household into ``target`` (locked by the caller)."""
    member = (
        Member.objects.select_for_update().select_related("household__region").get(pk=member.pk)
    )
    origin = (
        Household.objects.select_for_update().select_related("region").get(pk=member.household_id)
    )
    if origin.pk == target.pk or not member.is_current:
        raise ConflictError(_("This person is not in another household any more. Reload."))
    others = origin.members.filter(is_current=True).exclude(pk=member.pk).exists()
    if origin.head_id == member.pk and others:
        raise ValidationFailed(
            [
                (
                    "members",
                    _("%(name)s is head of household %(number)s. Name a new head there first.")
                    % {"name": member.name, "number": origin.number},
                )
            ]
        )
    reason = reason.strip()
    MemberMove.objects.create(
        member=member, from_household=origin, to_household=target, reason=reason, moved_by=actor
    )
    member.household, member.relation = target, relation
    # Living together is decided for a household: a decision taken for the old one goes.
    member.absence_counted, member.absence_decision = None, ""
    member._history_user = actor
    member.save(update_fields=["household", "relation", "absence_counted", "absence_decision"])
    if origin.head_id == member.pk:
        origin.head = None
    origin.version += 1
    origin._history_user = actor
    origin.save(update_fields=["head", "version", "updated_at"])
    household_event(origin, HouseholdEvent.Kind.MOVED_OUT, member, f"{member.name} → {target}")
    household_event(target, HouseholdEvent.Kind.MOVED_IN, member, f"{member.name} ← {origin}")
    for household in (origin, target):  # both jurisdictions see it in their audit log
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=member,
            region_code=household.region.code,
            case_key=household.audit_case_key,
            from_state=origin.number,
            to_state=target.number,
            reason=reason,
        )
    return member


def can_decide_absence(user: User, household: Household) -> bool:
    return user.role == Role.TOWNSHIP_REVIEWER and in_jurisdiction(user, household.region.code)


@transaction.atomic
def member_absence_decide(*, actor: User, member: Member, counted: bool, reason: str) -> Member:
    """The township reviewer decides whether a member living away for an "other" reason
    lives with the household (共同生活) and so counts; recorded with the reason."""
    member = (
        Member.objects.select_for_update().select_related("household__region").get(pk=member.pk)
    )
    if not can_decide_absence(actor, member.household):
        raise OutOfScopeError(_("Only the township reviewer decides whether a member counts."))
    if member.lives_with_household or member.absence_reason != Member.Absence.OTHER:
        raise ConflictError(_("Only a member living away for another reason needs a decision."))
    if not reason.strip():
        raise ValidationFailed([("reason", _("Write why the member counts or not."))])
    before = member.counted
    member.absence_counted, member.absence_decision = counted, reason.strip()[:200]
    member._history_user = actor
    member.save(update_fields=["absence_counted", "absence_decision"])
    if member.counted != before:
        household_event(
            member.household,
            HouseholdEvent.Kind.COUNTED,
            member,
            f"{member.name}: "
            + (_("counts as living with the household") if counted else _("no longer counts")),
        )
    return member


@transaction.atomic
def job_referral_record(
    *, actor: User, member: Member, offered_on, job: str, outcome: str, note: str = ""
) -> JobReferral:
    """A job offered to a member (就业推荐) and what they did with it. Refusals without good
    reason count towards losing the member's share of 低保 (the means test reads them)."""
    if not can_write(actor, member.household.region) or not member.is_current:
        raise OutOfScopeError(_("Only the township records job referrals for its households."))
    errors = []
    if not job.strip():
        errors.append(("job", _("Describe the job offered.")))
    if offered_on > timezone.localdate():
        errors.append(("offered_on", _("The date cannot be in the future.")))
    if outcome not in JobReferral.Outcome.values:
        errors.append(("outcome", _("Choose what the member did.")))
    if errors:
        raise ValidationFailed(errors)
    referral = JobReferral(
        member=member,
        offered_on=offered_on,
        job=job.strip()[:200],
        outcome=outcome,
        note=note.strip()[:200],
        recorded_by=actor,
    )
    referral._history_user = actor
    referral.save()
    if outcome == JobReferral.Outcome.REFUSED:
        household_event(
            member.household,
            HouseholdEvent.Kind.JOB_REFUSED,
            member,
            f"{member.name}: {referral.job}",
        )
    return referral


def household_sensitive_view(*, actor: User, household: Household, reason: str = "") -> None:
    """Record that the actor was shown (or printed) the full ID numbers, phone and bank
    account."""
    if actor.role not in SENSITIVE_ROLES or not in_jurisdiction(actor, household.region.code):
        raise OutOfScopeError(_("Your role does not show full ID numbers or bank accounts."))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        obj=household,
        reason=reason or _("Full ID numbers, phone and bank account shown"),
    )


def duplicate_report_viewed(*, actor: User) -> None:
    """The duplicate report shows full ID numbers (typing errors are invisible otherwise)."""
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        reason=_("Likely-duplicates report with full ID numbers shown"),
    )
