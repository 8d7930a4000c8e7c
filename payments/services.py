"""Every write of the payments app (DESIGN.md §8): payrolls from request to reconciliation,
the township's follow-up of failed payments and overpayments, fund allocations."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from decimal import Decimal

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import in_jurisdiction
from core.audit import audit_record
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.jobs import exclusive
from core.models import AuditEvent
from eligibility.selectors import policy_figure
from regions.models import Region

from . import bankfiles, checks, funds
from .accounts import account_problem
from .generation import ZERO, payroll_lines_generate, payroll_totals
from .models import (
    COMMITTED_PAYROLL,
    LIVE_PAYROLL,
    BankFile,
    BankResult,
    FundAllocation,
    Overpayment,
    PaymentCheck,
    Payroll,
    PayrollLine,
)

S = Payroll.Status
L = PayrollLine
FINANCE = Role.DISTRICT_FINANCE
TOWNSHIP_ROLES = (Role.CLERK, Role.TOWNSHIP_REVIEWER)
# A payroll still generating after this lost its worker; it can be cancelled and redone.
STUCK_AFTER = dt.timedelta(minutes=30)


class PayrollExists(ConflictError):
    """The month's payroll for the district and programme was already requested."""

    def __init__(self, payroll: Payroll):
        super().__init__(
            _("The payroll of %(month)s already exists (%(status)s).")
            % {"month": f"{payroll.month:%Y-%m}", "status": payroll.get_status_display()}
        )
        self.payroll = payroll


def _district_staff(actor, district: Region, role: str) -> None:
    if actor.role != role or not in_jurisdiction(actor, district.code):
        raise OutOfScopeError(_("Your role may not do this for this district."))


# --- request and generation -------------------------------------------------------------------


@transaction.atomic
def payroll_request(*, actor, district: Region, programme: str, month: dt.date) -> Payroll:
    """The funds officer asks for a month's payroll; the lines are made by a task
    (``payroll_generate``) queued by the caller once this commits."""
    _district_staff(actor, district, FINANCE)
    if district.level != Region.Level.DISTRICT:
        raise ValidationFailed([("district", _("Choose a district."))])
    month = month.replace(day=1)
    existing = Payroll.objects.filter(
        district=district, programme=programme, month=month, status__in=LIVE_PAYROLL
    ).first()
    if existing is not None:
        raise PayrollExists(existing)
    try:
        with transaction.atomic():
            payroll = Payroll.objects.create(
                district=district, programme=programme, month=month, generated_by=actor
            )
    except IntegrityError:  # the same request at the same moment: the other one won
        raise PayrollExists(
            Payroll.objects.get(
                district=district, programme=programme, month=month, status__in=LIVE_PAYROLL
            )
        ) from None
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=payroll,
        reason=_("Payroll requested"),
    )
    return payroll


def payroll_generate(*, payroll_id: int) -> Payroll:
    """Make the lines of a requested payroll, once. One worker at a time holds it: a second
    delivery finds it held and does nothing. A worker killed midway takes its lock with it,
    and the re-delivered task carries on where it stopped (every step skips the lines that
    exist). A failure leaves the payroll marked failed with the error, its partial lines
    removed, and it can be requested again."""
    with exclusive(f"payroll_generate:{payroll_id}") as mine:
        payroll = Payroll.objects.select_related("district").get(pk=payroll_id)
        if not mine or payroll.status != S.GENERATING:
            return payroll
        try:
            payroll_lines_generate(payroll)
        except Exception as exc:
            with transaction.atomic():
                payroll.lines.all().delete()
                Payroll.objects.filter(pk=payroll.pk, status=S.GENERATING).update(
                    status=S.FAILED, error=str(exc)[:2000]
                )
            raise
        return _generated(payroll)


@transaction.atomic
def _generated(payroll: Payroll) -> Payroll:
    payroll = Payroll.objects.select_for_update().get(pk=payroll.pk)
    if payroll.status != S.GENERATING:  # cancelled meanwhile as stuck
        return payroll
    totals = payroll_totals(payroll)
    payroll.line_count, payroll.total_amount = totals["count"], totals["amount"]
    payroll.status, payroll.progress = S.DRAFT, 100
    payroll.generated_at = timezone.now()
    payroll.version += 1
    payroll.save()
    audit_record(
        actor=payroll.generated_by,
        action=AuditEvent.Action.TRANSITION,
        obj=payroll,
        from_state=S.GENERATING,
        to_state=S.DRAFT,
        reason=_("%(n)d lines, %(total)s yuan")
        % {"n": payroll.line_count, "total": payroll.total_amount},
    )
    return payroll


# --- approval, cancellation -------------------------------------------------------------------


def _locked(payroll: Payroll, expected_version: int | None) -> Payroll:
    locked = Payroll.objects.select_for_update().select_related("district").get(pk=payroll.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ConflictError(_("The payroll has changed meanwhile; reload the page."))
    return locked


def _move(actor, payroll: Payroll, to: str, reason: str) -> Payroll:
    before = payroll.status
    payroll.status = to
    payroll.version += 1
    payroll.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=payroll,
        from_state=before,
        to_state=to,
        reason=reason,
    )
    return payroll


@transaction.atomic
def payroll_approve(
    *, actor, payroll: Payroll, expected_version: int | None = None, override_reason: str = ""
) -> Payroll:
    """A district approver who did not generate it approves the draft; it is locked from
    then on. Past the district's allocation for the year it needs a recorded reason."""
    payroll = _locked(payroll, expected_version)
    _district_staff(actor, payroll.district, Role.DISTRICT_APPROVER)
    if actor.pk == payroll.generated_by_id:
        raise OutOfScopeError(_("Whoever generated a payroll does not approve it."))
    if payroll.status != S.DRAFT:
        raise ConflictError(
            _("Only a draft is approved; this payroll is “%(status)s”.")
            % {"status": payroll.get_status_display()}
        )
    position = funds.position(payroll.district, payroll.programme, payroll.month.year)
    after = position.spent + payroll.total_amount
    override_reason = override_reason.strip()
    if after > position.allocated and not override_reason:
        raise ValidationFailed(
            [
                (
                    "override_reason",
                    _(
                        "This payroll takes the year's spending to %(after)s yuan, beyond the "
                        "%(allocated)s yuan allocated: record why it is approved all the same."
                    )
                    % {"after": after, "allocated": position.allocated},
                )
            ]
        )
    payroll.approved_by, payroll.approved_at = actor, timezone.now()
    payroll.fund_override_reason = override_reason if after > position.allocated else ""
    return _move(actor, payroll, S.APPROVED, override_reason or _("Approved"))


@transaction.atomic
def payroll_cancel(*, actor, payroll: Payroll, reason: str, expected_version=None) -> Payroll:
    """A draft (or a failed generation) is cancelled: its lines go, the month can be
    generated again. An approved payroll is locked."""
    payroll = _locked(payroll, expected_version)
    _district_staff(actor, payroll.district, FINANCE)
    stuck = payroll.status == S.GENERATING and payroll.created_at < timezone.now() - STUCK_AFTER
    if payroll.status not in (S.DRAFT, S.FAILED) and not stuck:
        raise ConflictError(_("Only a draft can be cancelled; an approved payroll is locked."))
    if not reason.strip():
        raise ValidationFailed([("reason", _("Say why the payroll is cancelled."))])
    totals = payroll_totals(payroll)
    payroll.lines.all().delete()
    payroll.cancelled_reason = reason.strip()
    return _move(
        actor,
        payroll,
        S.CANCELLED,
        _("%(reason)s (%(n)d lines, %(total)s yuan removed)")
        % {"reason": reason.strip(), "n": totals["count"], "total": totals["amount"]},
    )


# --- the township's follow-up -----------------------------------------------------------------


@transaction.atomic
def line_reissue_request(*, actor, line: PayrollLine, note: str = "") -> PayrollLine:
    """The township has fixed the account of a failed or held payment (on the household
    page) and asks for it to be paid again: the next payroll re-issues it, once."""
    line = (
        L.objects.select_for_update(of=("self",))
        .select_related("household__region")
        .get(pk=line.pk)
    )
    if actor.role not in TOWNSHIP_ROLES or not in_jurisdiction(actor, line.household.region.code):
        raise OutOfScopeError(_("The household's township asks for a re-issue."))
    if line.status not in (L.Status.FAILED, L.Status.HELD):
        raise ConflictError(_("Only a failed or held payment is re-issued."))
    if line.reissue_requested_at or line.reissues.exists():
        raise ConflictError(_("A re-issue has already been asked for."))
    household = line.household
    problem = account_problem(
        household.bank_account_name or (household.head.name if household.head else ""),
        household.bank_account_number,
    )
    if problem:
        raise ValidationFailed(
            [("", _("Fix the account first: %(problem)s") % {"problem": problem})]
        )
    line.reissue_requested_at, line.reissue_requested_by = timezone.now(), actor
    line.save(update_fields=["reissue_requested_at", "reissue_requested_by"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=line,
        reason=_("Account fixed, re-issue asked for: %(note)s") % {"note": note.strip() or "—"},
    )
    return line


@transaction.atomic
def overpayment_resolve(*, actor, overpayment: Overpayment, status: str, note: str) -> Overpayment:
    """The township records that an overpayment was recovered, or writes it off with a
    reason."""
    overpayment = (
        Overpayment.objects.select_for_update(of=("self",))
        .select_related("household__region")
        .get(pk=overpayment.pk)
    )
    if actor.role != Role.TOWNSHIP_REVIEWER or not in_jurisdiction(
        actor, overpayment.household.region.code
    ):
        raise OutOfScopeError(_("The household's township reviewer resolves an overpayment."))
    if overpayment.status != Overpayment.Status.OPEN:
        raise ConflictError(_("This overpayment is already resolved."))
    if status not in (Overpayment.Status.RECOVERED, Overpayment.Status.WAIVED):
        raise ValidationFailed([("status", _("Choose recovered or written off."))])
    if not note.strip():
        raise ValidationFailed([("note", _("Say how it was recovered, or why it is written off."))])
    overpayment.status, overpayment.note = status, note.strip()
    overpayment.resolved_by, overpayment.resolved_at = actor, timezone.now()
    overpayment.save(update_fields=["status", "note", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=overpayment,
        from_state=Overpayment.Status.OPEN,
        to_state=status,
        reason=note.strip(),
    )
    return overpayment


# --- funds ------------------------------------------------------------------------------------


@transaction.atomic
def allocation_set(
    *, actor, year: int, district: Region, programme: str, source: str, amount: Decimal, note=""
) -> FundAllocation:
    """A source's allocation to a district for a programme and year (entered again, it is
    replaced, and the change recorded)."""
    if actor.role not in (FINANCE, Role.CITY_ADMIN) or not in_jurisdiction(actor, district.code):
        raise OutOfScopeError(_("The district's funds officer or the city enters allocations."))
    if amount < 0:
        raise ValidationFailed([("amount", _("An amount cannot be negative."))])
    allocation, created = FundAllocation.objects.update_or_create(
        year=year,
        district=district,
        programme=programme,
        source=source,
        defaults={"amount": amount, "note": note.strip(), "created_by": actor},
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=allocation,
        reason=_("%(source)s: %(amount)s yuan")
        % {"source": allocation.get_source_display(), "amount": amount},
    )
    return allocation


def warning_share(on: dt.date) -> Decimal:
    return policy_figure("fund_warning_share", on)


# --- the bank: payment file out, result in ----------------------------------------------------


@transaction.atomic
def payroll_export(*, actor, payroll: Payroll, fmt: str) -> BankFile:
    """The bank file of an approved payroll, in CSV or XLSX. The first export checks every
    account once more (an account changed or spoilt since the payroll was made is held back
    for the township, not sent), writes the file, records its checksum and marks the payroll
    sent. Asking again for a format returns the file already made, so the bank never gets
    two different files for one payroll."""
    payroll = _locked(payroll, None)
    _district_staff(actor, payroll.district, FINANCE)
    if fmt not in BankFile.Format.values:
        raise ValidationFailed([("format", _("Choose CSV or XLSX."))])
    if payroll.status not in COMMITTED_PAYROLL:
        raise ConflictError(_("A bank file is made once the payroll is approved."))
    existing = payroll.bank_files.filter(format=fmt).first()
    if existing is not None:
        return existing
    if payroll.status == S.APPROVED:
        _hold_changed_accounts(payroll)
    sent = (
        payroll.lines.exclude(status=L.Status.HELD)
        .select_related("household", "payee_member")
        .order_by("id")
    )
    name = (
        f"bankfiles/{payroll.district.code}/"
        f"{payroll.month:%Y%m}-{payroll.programme}-{payroll.pk}.{fmt}"
    )
    writer = bankfiles.write_csv if fmt == "csv" else bankfiles.write_xlsx
    with tempfile.TemporaryFile() as scratch:
        sha = writer(
            bankfiles.rows(sent.iterator(chunk_size=bankfiles.CHUNK), payroll.programme),
            scratch,
        )
        scratch.seek(0)
        path = default_storage.save(name, File(scratch, name=name))
    totals = payroll_totals(payroll)
    held = totals["by_status"].get(L.Status.HELD, {"count": 0, "amount": ZERO})
    bank_file = BankFile.objects.create(
        payroll=payroll,
        format=fmt,
        path=path,
        sha256=sha,
        line_count=totals["count"] - held["count"],
        total_amount=totals["amount"] - held["amount"],
        held_count=held["count"],
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=bank_file,
        reason=_("Bank file %(format)s: %(n)d lines, %(total)s yuan, %(held)d held back")
        % {
            "format": bank_file.get_format_display(),
            "n": bank_file.line_count,
            "total": bank_file.total_amount,
            "held": bank_file.held_count,
        },
    )
    if payroll.status == S.APPROVED:
        payroll.exported_at = timezone.now()
        _move(actor, payroll, S.EXPORTED, _("Bank file sent (SHA-256 %(sha)s)") % {"sha": sha})
    return bank_file


def _hold_changed_accounts(payroll: Payroll) -> None:
    rows = payroll.lines.filter(status=L.Status.PENDING).values_list(
        "pk",
        "payee_name",
        "account_number",
        "household__bank_account_number",
    )
    held: dict[str, list[int]] = {}
    for pk, name, account, current in rows.iterator(chunk_size=5000):
        problem = account_problem(name, account)
        if not problem and (current or "") != (account or ""):
            problem = _("The household's account was changed after the payroll was made.")
        if problem:
            held.setdefault(problem, []).append(pk)
    for reason, pks in held.items():
        for start in range(0, len(pks), 5000):
            L.objects.filter(pk__in=pks[start : start + 5000]).update(
                status=L.Status.HELD, hold_reason=reason
            )


def bank_file_download(*, actor, bank_file: BankFile):
    """The stored file, opened; every download is logged (it carries full ID and account
    numbers)."""
    _district_staff(actor, bank_file.payroll.district, FINANCE)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.VIEW,
        obj=bank_file,
        reason=_("Bank file downloaded"),
    )
    return default_storage.open(bank_file.path, "rb")


@transaction.atomic
def payroll_result_import(*, actor, payroll: Payroll, upload, name: str = "") -> BankResult:
    """The bank's result: each row matched to its line by 参考号. A row whose reference is not
    this payroll's, whose amount, household or account differ from what was sent, or whose
    state is neither 成功 nor 失败 is refused and reported, and changes nothing. Lines already
    settled by an earlier file keep their result (the same result again is no change). When
    no line is left pending the payroll is reconciled and its payment check sample drawn."""
    payroll = _locked(payroll, None)
    _district_staff(actor, payroll.district, FINANCE)
    if payroll.status not in (S.EXPORTED, S.RECONCILED):
        raise ConflictError(_("A bank result is imported once the bank file has been sent."))
    content = upload.read()
    digest = hashlib.sha256(content).hexdigest()
    parsed = bankfiles.result_read(io.BytesIO(content))
    if parsed.problems:
        raise ValidationFailed([("file", p["problem"]) for p in parsed.problems])
    lines = {
        line.reference: line
        for line in payroll.lines.exclude(status=L.Status.HELD).select_related("household")
    }
    report = list(parsed.problems)
    paid, failed, unknown, seen = [], [], 0, set()
    for row in parsed.rows:
        line = lines.get(row.reference)
        problem = ""
        if line is None:
            unknown += 1
            problem = _("Unknown reference: not a payment of this payroll.")
        elif row.reference in seen:
            problem = _("The reference appears twice in the file.")
        elif row.amount != line.amount:
            problem = _("The amount %(got)s differs from the %(sent)s yuan sent.") % {
                "got": row.amount if row.amount is not None else "—",
                "sent": line.amount,
            }
        elif row.household_number != line.household.number or (
            row.account_number != line.account_number
        ):
            problem = _("The household or account number differs from what was sent.")
        elif row.status not in (bankfiles.PAID, bankfiles.FAILED):
            problem = _("The state must be 成功 or 失败.")
        elif line.status != L.Status.PENDING:
            settled = L.Status.PAID if row.status == bankfiles.PAID else L.Status.FAILED
            if settled != line.status:
                problem = _("This payment was already recorded as “%(status)s”.") % {
                    "status": line.get_status_display()
                }
        if problem:
            report.append({"row": row.number, "reference": row.reference, "problem": problem})
            continue
        seen.add(row.reference)
        if line.status == L.Status.PENDING:
            (paid if row.status == bankfiles.PAID else failed).append((line, row.reason))
    now = timezone.now()
    for line, _reason in paid:
        line.status, line.settled_at = L.Status.PAID, now
    for line, reason in failed:
        line.status, line.settled_at = L.Status.FAILED, now
        line.failure_reason = (reason or _("No reason given by the bank"))[:200]
    L.objects.bulk_update(
        [line for line, _reason in (*paid, *failed)],
        ["status", "settled_at", "failure_reason"],
        batch_size=2000,
    )
    result = BankResult.objects.create(
        payroll=payroll,
        sha256=digest,
        paid=len(paid),
        failed=len(failed),
        unknown=unknown,
        refused=len(report),
        report=report,
        imported_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.CREATE,
        obj=result,
        reason=_("%(name)s: %(paid)d paid, %(failed)d failed, %(refused)d rows refused")
        % {
            "name": name or _("bank result"),
            "paid": len(paid),
            "failed": len(failed),
            "refused": len(report),
        },
    )
    if payroll.status == S.EXPORTED and not payroll.lines.filter(status=L.Status.PENDING).exists():
        payroll.reconciled_at = now
        _move(actor, payroll, S.RECONCILED, _("Every payment settled by the bank"))
        checks.draw(payroll)
    return result


# --- payment checks (发放核查) ------------------------------------------------------------------


@transaction.atomic
def payment_check_record(
    *, actor, check: PaymentCheck, method: str, outcome: str, amount_received=None, note: str = ""
) -> PaymentCheck:
    """The township records what the recipient said. Anything but "in full" is a
    discrepancy on the township reviewer's queue."""
    check = (
        PaymentCheck.objects.select_for_update(of=("self",))
        .select_related("line__household__region")
        .get(pk=check.pk)
    )
    if actor.role not in TOWNSHIP_ROLES or not in_jurisdiction(actor, check.township.code):
        raise OutOfScopeError(_("The household's township checks the payment."))
    if check.status != PaymentCheck.Status.OPEN:
        raise ConflictError(_("This payment has already been checked."))
    errors = []
    if method not in PaymentCheck.Method.values:
        errors.append(("method", _("Say how the recipient was asked.")))
    if outcome not in PaymentCheck.Outcome.values:
        errors.append(("outcome", _("Record what the recipient said.")))
    if outcome == PaymentCheck.Outcome.PARTLY and (
        amount_received is None or not 0 <= amount_received < check.line.amount
    ):
        errors.append(
            ("amount_received", _("Enter the amount received, less than the amount paid."))
        )
    if outcome in (PaymentCheck.Outcome.PARTLY, PaymentCheck.Outcome.NOT_RECEIVED) and not (
        note.strip()
    ):
        errors.append(("note", _("Write down what the recipient said.")))
    if errors:
        raise ValidationFailed(errors)
    check.method, check.outcome, check.note = method, outcome, note.strip()
    check.amount_received = (
        check.line.amount
        if outcome == PaymentCheck.Outcome.FULL
        else ZERO
        if outcome == PaymentCheck.Outcome.NOT_RECEIVED
        else amount_received
    )
    check.checked_by, check.checked_at = actor, timezone.now()
    check.status = (
        PaymentCheck.Status.DONE
        if outcome == PaymentCheck.Outcome.FULL
        else PaymentCheck.Status.DISCREPANCY
    )
    check.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=check,
        from_state=PaymentCheck.Status.OPEN,
        to_state=check.status,
        reason=f"{check.get_method_display()}: {check.get_outcome_display()} {check.note}".strip(),
    )
    return check


@transaction.atomic
def payment_check_resolve(*, actor, check: PaymentCheck, resolution: str) -> PaymentCheck:
    """The township reviewer closes a discrepancy, saying what was found and done."""
    check = PaymentCheck.objects.select_for_update(of=("self",)).get(pk=check.pk)
    if actor.role != Role.TOWNSHIP_REVIEWER or not in_jurisdiction(actor, check.township.code):
        raise OutOfScopeError(_("The township reviewer resolves a discrepancy."))
    if check.status != PaymentCheck.Status.DISCREPANCY:
        raise ConflictError(_("Only a discrepancy is resolved."))
    if not resolution.strip():
        raise ValidationFailed([("resolution", _("Say what was found and what was done."))])
    check.status, check.resolution = PaymentCheck.Status.RESOLVED, resolution.strip()
    check.resolved_by, check.resolved_at = actor, timezone.now()
    check.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=check,
        from_state=PaymentCheck.Status.DISCREPANCY,
        to_state=PaymentCheck.Status.RESOLVED,
        reason=check.resolution,
    )
    return check
