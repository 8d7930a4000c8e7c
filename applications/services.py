"""Every write to applications and referrals: one transaction each, role and jurisdiction
checked, rows locked, every status change in the audit log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, StaffRelative
from accounts.roles import BUSINESS_ROLES, CASE_READERS
from accounts.scoping import in_jurisdiction
from beneficiaries import idnumber, people
from beneficiaries.models import Household
from core import uploads
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.services import sequence_allocate
from core.workdays import WorkdayCalendar
from eligibility.models import PolicyValue

from . import flows
from .duplicates import no_duplicates
from .models import (
    Application,
    ApplicationMaterial,
    Channel,
    Department,
    Lead,
    Material,
    MaterialRequirement,
    Programme,
    Referral,
    Scan,
)


@dataclass
class Intake:
    applications: list[Application]
    referrals: list[Referral]


def _workdays(kind: str, on: dt.date) -> int:
    row = (
        PolicyValue.objects.filter(
            kind=kind, district_code="", residence="", effective_from__lte=on.replace(day=1)
        )
        .order_by("-effective_from")
        .first()
    )
    if row is None:
        raise ValidationFailed(
            [
                (
                    "programmes",
                    _("No working-day limit is set for %(kind)s.")
                    % {"kind": PolicyValue.Kind(kind).label},
                )
            ]
        )
    return int(row.value)


def staff_relatives_in(household: Household) -> list:
    """Declared close relatives of staff or cadres among the household's current members."""
    numbers = household.members.filter(is_current=True).values_list("id_number_digest")
    return list(StaffRelative.objects.filter(id_number_digest__in=numbers).select_related("staff"))


def required_materials(programmes) -> dict[str, list[str]]:
    required: dict[str, list[str]] = {p: [] for p in programmes}
    for row in MaterialRequirement.objects.filter(programme__in=list(programmes)).order_by("id"):
        required[row.programme].append(row.material)
    return required


@transaction.atomic
def application_intake(
    *,
    actor,
    household: Household,
    programmes: list[str],
    referrals: list[str],
    channel: str,
    materials_received: set[str],
    close_relative_declared: bool = False,
    single_member=None,
    now: dt.datetime | None = None,
) -> Intake:
    """One visit (一表登记): an application for each programme handled here, a referral with a
    due date for each request another department decides. Applications missing a required
    material wait in "needs materials"; the receipt number is taken in this transaction, so
    numbers are gap-free per township and year."""
    if actor.role not in flows.WINDOW or not in_jurisdiction(actor, household.region.code):
        raise OutOfScopeError(_("Only the township window of this household accepts for it."))
    if not programmes and not referrals:
        raise ValidationFailed([("programmes", _("Tick at least one kind of help."))])
    # One intake at a time per household: the duplicate checks below read what the others
    # wrote (the partial unique constraints on open applications are the last guard).
    Household.objects.select_for_update().filter(pk=household.pk).values_list("pk").first()
    if single_member is not None:
        _single_member_check(household, programmes, single_member)
    no_duplicates(household, programmes, single_member)
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    township = household.region.parent
    relatives = staff_relatives_in(household)
    separately = household.separately_registered or close_relative_declared or bool(relatives)
    calendar = WorkdayCalendar.load(today.year, today.year + 1)
    materials_due = calendar.add_workdays(today, _workdays("materials_workdays", today))
    created = [
        _application(
            actor,
            household,
            township,
            programme,
            channel,
            missing,
            now,
            materials_due,
            separately,
            received=materials_received,
        )
        for programme, materials in required_materials(programmes).items()
        for missing in [set(materials) - materials_received]
    ]
    for application in created:
        if single_member is not None and application.programme == Programme.DIBAO:
            application.single_member = single_member
            application.save(update_fields=["single_member"])
    referral_due = (
        calendar.add_workdays(today, _workdays("referral_workdays", today)) if referrals else None
    )
    sent = [_referral(actor, household, township, kind, now, referral_due) for kind in referrals]
    return Intake(created, sent)


def process_due(
    programme: str,
    accepted_on: dt.date,
    extended: bool = False,
    *,
    figure=None,
    calendar: WorkdayCalendar | None = None,
) -> dt.date:
    """When the whole process is due, from acceptance: 30 working days (45 once extended)
    for 低保 and the others; for 特困 the township's 15 working days, the 7-day notice and
    the district's 15 working days (特困人员认定办法). A caller counting many passes its own
    ``figure`` lookup and ``calendar``."""
    calendar = calendar or WorkdayCalendar.load(accepted_on.year, accepted_on.year + 1)
    figure = figure or _workdays

    def days(kind: str) -> int:
        return int(figure(kind, accepted_on))

    if programme == Programme.TEKUN and not extended:
        township_done = calendar.add_workdays(accepted_on, days("tekun_township_workdays"))
        notice_over = township_done + dt.timedelta(days=days("notice_days"))
        return calendar.add_workdays(notice_over, days("tekun_district_workdays"))
    kind = "extended_process_workdays" if extended else "process_workdays"
    return calendar.add_workdays(accepted_on, days(kind))


def single_member_choices(household: Household) -> list:
    """Members who may apply for 低保 alone (单人保): current, counted, and severely disabled
    or seriously ill (whether the family is 低保边缘 is the investigation's finding)."""
    return [
        m
        for m in household.members.filter(is_current=True).order_by("id")
        if m.counted
        and people.qualifies_alone(
            kind=m.disability_type, grade=m.disability_grade, serious_illness=m.serious_illness
        )
    ]


def _single_member_check(household: Household, programmes, member) -> None:
    if Programme.DIBAO not in programmes:
        raise ValidationFailed(
            [("single_member", _("Only 低保 can be granted to one member alone (单人保)."))]
        )
    if member not in single_member_choices(household):
        raise ValidationFailed(
            [
                (
                    "single_member",
                    _(
                        "Only a counted member of this household with a grade 1–2 disability, a "
                        "grade-3 intellectual or mental disability or a serious illness can apply "
                        "alone."
                    ),
                )
            ]
        )


def _application(
    actor,
    household,
    township,
    programme,
    channel,
    missing,
    now,
    materials_due,
    separately,
    received=(),
):
    year = timezone.localtime(now).year
    (seq,) = sequence_allocate(name=f"receipt:{township.code[:9]}:{year}")
    application = Application(
        number=f"{township.code[:9]}-{year}-{seq:05d}",
        household=household,
        programme=programme,
        channel=channel,
        township=township,
        received_by=actor,
        received_at=now,
        # Complete at the window: accepted today and the clocks run; otherwise they start
        # when the last missing material is handed in.
        accepted_on=None if missing else timezone.localtime(now).date(),
        decision_due=None if missing else process_due(programme, timezone.localtime(now).date()),
        materials_due=materials_due if missing else None,
        status=Application.Status.NEEDS_MATERIALS if missing else Application.Status.RECEIVED,
        separately_registered=separately,
    )
    application._history_user = actor
    application.save()
    # The materials the programme requires, and any other the family handed in (a medical bill
    # for 低保 is kept on the case and the receipt even though 低保 does not require it).
    required = required_materials([programme])[programme]
    extra = [m for m in Material.values if m in set(received) and m not in required]
    ApplicationMaterial.objects.bulk_create(
        ApplicationMaterial(
            application=application,
            material=m,
            required=m in required,
            received=m not in missing,
            received_at=None if m in missing else now,
        )
        for m in [*required, *extra]
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=application,
        to_state=application.status,
        reason=_("Accepted at the window"),
    )
    return application


def _referral(actor, household, township, kind, now, due):
    department = (
        Department.objects.filter(kind=kind, district_code=township.code[:6]).first()
        or Department.objects.filter(kind=kind, district_code="").first()
    )
    if department is None:
        raise ValidationFailed(
            [
                (
                    "referrals",
                    _("No department is set up for %(kind)s.")
                    % {"kind": Department.Kind(kind).label},
                )
            ]
        )
    referral = Referral(
        household=household,
        kind=kind,
        department=department,
        township=township,
        created_by=actor,
        created_at=now,
        due=due,
    )
    referral._history_user = actor
    referral.save()
    return referral


@transaction.atomic
def application_materials_update(
    *, actor, application: Application, expected_version: int, received: set[str]
) -> Application:
    """Tick what the family has handed in; when nothing required is missing any more, the
    application resumes (needs materials → received)."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("household__region")
        .get(pk=application.pk)
    )
    if actor.role not in flows.WINDOW or not in_jurisdiction(
        actor, application.household.region.code
    ):
        raise OutOfScopeError(_("Only the township window changes this application."))
    if application.version != expected_version:
        raise ConflictError(_("This application was changed meanwhile; reload the page."))
    now = timezone.now()
    for material in application.materials.all():
        has = material.material in received
        if has != material.received:
            material.received, material.received_at = has, now if has else None
            material.save(update_fields=["received", "received_at"])
    missing = application.materials.filter(received=False, required=True).exists()
    wanted = Application.Status.NEEDS_MATERIALS if missing else Application.Status.RECEIVED
    if wanted != application.status:
        action = "mark_missing" if missing else "complete_materials"
        to = flows.target(application.status, action, actor.role)
        if to is None:
            raise ConflictError(
                _("The materials of this application can no longer be changed here.")
            )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=application,
            from_state=application.status,
            to_state=to,
            reason=_("Materials completed") if not missing else _("Material marked missing"),
        )
        application.status = to
        today = timezone.localdate()
        if missing:
            # A case already accepted keeps its clock; the family is told by when to bring
            # what is missing either way.
            application.materials_due = WorkdayCalendar.load(
                today.year, today.year + 1
            ).add_workdays(today, _workdays("materials_workdays", today))
        else:
            application.materials_due = None
            if application.accepted_on is None:
                application.accepted_on = today
                application.decision_due = process_due(application.programme, today)
    application.version += 1
    application._history_user = actor
    application.save(
        update_fields=["status", "accepted_on", "materials_due", "decision_due", "version"]
    )
    return application


def application_withdraw(
    *, actor, application: Application, expected_version: int, reason: str
) -> Application:
    """The family withdraws its request before the investigation starts."""
    from .workflow import transition

    return transition(
        actor=actor,
        application=application,
        action="withdraw",
        expected_version=expected_version,
        reason=reason,
    )


PROGRAMMES = [p for p, _label in Programme.choices]
LEAD_REPORTERS = frozenset({Role.VILLAGE_WORKER, Role.CLERK, Role.TOWNSHIP_REVIEWER})


@transaction.atomic
def referral_reply(*, actor, referral: Referral, reply: str) -> Referral:
    """Record the department's answer to a referral."""
    referral = (
        Referral.objects.select_for_update().select_related("household__region").get(pk=referral.pk)
    )
    if actor.role not in flows.WINDOW or not in_jurisdiction(actor, referral.household.region.code):
        raise OutOfScopeError(_("Only the township window records replies."))
    if not reply.strip():
        raise ValidationFailed([("reply", _("Enter the department's reply."))])
    if referral.status == Referral.Status.REPLIED:
        raise ConflictError(_("This referral has already been answered."))
    referral.status, referral.reply, referral.replied_at = (
        Referral.Status.REPLIED,
        reply.strip(),
        timezone.now(),
    )
    referral._history_user = actor
    referral.save(update_fields=["status", "reply", "replied_at"])
    return referral


@transaction.atomic
def lead_report(
    *,
    actor,
    village,
    person_name: str,
    location: str,
    situation: str,
    urgency: str,
    now: dt.datetime | None = None,
) -> Lead:
    """A village worker (or the township) reports a person in urgent need (主动发现)."""
    if actor.role not in LEAD_REPORTERS or not in_jurisdiction(actor, village.code):
        raise OutOfScopeError(_("You may not report for this village."))
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    due = WorkdayCalendar.load(today.year, today.year + 1).add_workdays(
        today, _workdays("lead_contact_workdays", today)
    )
    lead = Lead(
        village=village,
        person_name=person_name.strip(),
        location=location.strip(),
        situation=situation.strip(),
        urgency=urgency,
        reported_by=actor,
        reported_at=now,
        contact_due=due,
    )
    lead._history_user = actor
    lead.save()
    return lead


@transaction.atomic
def lead_contact(*, actor, lead: Lead, outcome: str, note: str) -> Lead:
    """Record the township's contact with a reported person: still to be followed
    (contacted) or nothing for this office to do (closed, with the reason)."""
    lead = Lead.objects.select_for_update().select_related("village").get(pk=lead.pk)
    if actor.role not in flows.WINDOW or not in_jurisdiction(actor, lead.village.code):
        raise OutOfScopeError(_("Only the township window follows up this lead."))
    if outcome not in (Lead.Status.CONTACTED, Lead.Status.CLOSED):
        raise ValidationFailed([("outcome", _("Choose what the contact led to."))])
    if not note.strip():
        raise ValidationFailed([("note", _("Write down what the contact found."))])
    if lead.status in (Lead.Status.CONVERTED, Lead.Status.CLOSED):
        raise ConflictError(_("This lead has already been dealt with."))
    lead.status, lead.contact_note = outcome, note.strip()
    lead.contacted_at = lead.contacted_at or timezone.now()
    lead._history_user = actor
    lead.save(update_fields=["status", "contact_note", "contacted_at"])
    return lead


@transaction.atomic
def lead_convert(*, actor, lead: Lead, household: Household, programmes: list[str]) -> Intake:
    """Turn a lead into applications for a registered household, in one step."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status in (Lead.Status.CONVERTED, Lead.Status.CLOSED):
        raise ConflictError(_("This lead has already been dealt with."))
    result = application_intake(
        actor=actor,
        household=household,
        programmes=programmes,
        referrals=[],
        channel=Channel.DISCOVERY,
        materials_received=set(),
    )
    lead.status, lead.household = Lead.Status.CONVERTED, household
    lead.contacted_at = lead.contacted_at or timezone.now()
    lead.application = result.applications[0] if result.applications else None
    lead._history_user = actor
    lead.save(update_fields=["status", "household", "application", "contacted_at"])
    return result


MAX_SCAN_BYTES = 10 * 1024 * 1024
# Extension → the bytes such a file starts with (checked: a renamed .exe is refused).
SCAN_SIGNATURES = {
    "pdf": (b"%PDF",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


@transaction.atomic
def scan_upload(*, actor, application: Application, material: str, uploaded_file) -> Scan:
    """Attach a scan of a material: PDF, PNG or JPEG, at most 10 MB, checked whole (it opens
    as what its name says, with nothing hidden behind it), stored under an unguessable name."""
    if actor.role not in flows.WINDOW or not in_jurisdiction(
        actor, application.household.region.code
    ):
        raise OutOfScopeError(_("Only the township window adds scans."))
    extension = uploaded_file.name.rsplit(".", 1)[-1].lower() if "." in uploaded_file.name else ""
    if extension not in SCAN_SIGNATURES:
        raise ValidationFailed([("file", _("Upload a PDF, PNG or JPEG file."))])
    if uploaded_file.size > MAX_SCAN_BYTES:
        raise ValidationFailed([("file", _("A scan may be at most 10 MB."))])
    head = uploaded_file.read(8)
    uploaded_file.seek(0)
    whole = (
        uploads.is_whole_pdf(uploaded_file)
        if extension == "pdf"
        else uploads.is_whole_image(uploaded_file, extension)
    )
    if not head.startswith(SCAN_SIGNATURES[extension]) or not whole:
        raise ValidationFailed(
            [("file", _("The file's content is not a %(type)s.") % {"type": extension.upper()})]
        )
    scan = Scan(
        application=application,
        material=material,
        file=uploaded_file,
        original_name=uploaded_file.name[:200],
        size=uploaded_file.size,
        uploaded_by=actor,
    )
    scan._history_user = actor
    scan.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=scan,
        reason=_("Scan added: %(material)s") % {"material": scan.get_material_display()},
    )
    return scan


# Scans carry ID cards, disability certificates and medical bills: the township and district
# staff and auditors open them, never village cadres (they see the case, not its papers).
SCAN_READERS = frozenset(CASE_READERS) - {Role.VILLAGE_WORKER}


def scan_viewed(*, actor, scan: Scan) -> None:
    if actor.role not in SCAN_READERS:
        raise OutOfScopeError(_("Scanned papers are opened by township and district staff only."))
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        obj=scan,
        reason=_("Scan opened: %(material)s") % {"material": scan.get_material_display()},
    )


# Who declares close relatives: everybody whose work touches cases, payments or policy; not
# the three officers (三员), whose work touches none.
STAFF_ROLES = frozenset(BUSINESS_ROLES)


@transaction.atomic
def staff_relative_declare(*, actor, name: str, id_number: str, relation: str) -> StaffRelative:
    """A member of staff or a village cadre declares a close relative (近亲属); applications
    from that relative's household are then registered separately (单独登记)."""
    if actor.role not in STAFF_ROLES:
        raise OutOfScopeError(_("Only staff and village cadres declare relatives here."))
    try:
        number = idnumber.parse(id_number).number
    except DjangoValidationError as exc:
        raise ValidationFailed([("id_number", exc.messages[0])]) from exc
    if not name.strip():
        raise ValidationFailed([("name", _("Enter the relative's name."))])
    if actor.relatives.filter(id_number_digest=number).exists():
        raise ValidationFailed([("id_number", _("You have already declared this person."))])
    relative = StaffRelative(staff=actor, name=name.strip(), id_number=number, relation=relation)
    relative._history_user = actor
    relative.save()
    return relative


@transaction.atomic
def staff_relative_remove(*, actor, relative: StaffRelative) -> None:
    if relative.staff_id != actor.pk:
        raise OutOfScopeError(_("You can only change your own declaration."))
    relative._history_user = actor
    relative.delete()
