"""Verification (家庭经济状况核对): department files in, findings out.

Each data-sharing department sends one CSV format, keyed by ID number (``FORMATS``). A file
is checked as a whole; a valid one is loaded as ``SharedRecord`` rows. A verification run
compares, household by household (in batches, set-based), what the departments know with
what the family declared, and records findings.

``SharedData`` is the one adapter interface the run uses. ``FileImportData`` reads the
loaded files; a live connection to the data-sharing platform would be another
implementation of the same two methods.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import in_jurisdiction, scope_to_jurisdiction
from beneficiaries import idnumber
from beneficiaries.models import Asset, Household, IncomeItem, Member
from core.exceptions import OutOfScopeError, ValidationFailed
from core.jobs import exclusive
from regions.models import Region

from .models import (
    SharedDataImport,
    SharedRecord,
    SharedSource,
    VerificationFinding,
    VerificationRun,
)
from .selectors import policy_for

MAX_FILE_BYTES = 50 * 1024 * 1024
BATCH = 2000
IMPORT_ROLES = frozenset({Role.CITY_ADMIN})
RUN_ROLES = frozenset({Role.CITY_ADMIN, Role.DISTRICT_APPROVER, Role.TOWNSHIP_REVIEWER})


@dataclass(frozen=True)
class Format:
    """Columns after 身份证号: (header, meaning) where meaning is kind, amount, area or detail;
    ``kinds`` lists the accepted values of the kind column (or its fixed value)."""

    columns: tuple[tuple[str, str], ...]
    kinds: tuple[str, ...] = ()


FORMATS: dict[str, Format] = {
    SharedSource.HUKOU: Format(
        (("户籍状态", "kind"), ("姓名", "detail")), ("normal", "deceased", "moved_out")
    ),
    SharedSource.VEHICLE: Format(
        (("车辆类型", "kind"), ("号牌", "detail"), ("价值", "amount")),
        ("car", "truck", "motorcycle", "disability_vehicle"),
    ),
    SharedSource.REAL_ESTATE: Format(
        (("不动产类型", "kind"), ("建筑面积", "area"), ("坐落", "detail")), ("house", "shopfront")
    ),
    SharedSource.MARKET_ENTITY: Format(
        (("主体类型", "kind"), ("名称", "detail"), ("注册资本", "amount")),
        ("company", "individual"),
    ),
    SharedSource.SOCIAL_INSURANCE: Format(
        (("待遇类型", "kind"), ("月金额", "amount")), ("pension", "unemployment_insurance")
    ),
    SharedSource.HOUSING_FUND: Format((("月缴存额", "amount"),), ("deposit",)),
    SharedSource.TAX: Format((("年收入", "amount"),), ("income",)),
    SharedSource.BANK: Format((("开户银行", "detail"), ("余额", "amount")), ("balance",)),
}


# --- Import -------------------------------------------------------------------------------------


def shared_import_create(*, actor, source: str, uploaded_file) -> SharedDataImport:
    """Check a department's file and load it if every row is good."""
    if actor.role not in IMPORT_ROLES:
        raise OutOfScopeError(_("Only the city administrator loads shared data."))
    if source not in FORMATS:
        raise ValidationFailed([("source", _("Choose the department the file comes from."))])
    if uploaded_file.size > MAX_FILE_BYTES:
        raise ValidationFailed([("file", _("The file is larger than 50 MB."))])
    records, errors, count = _parse(source, uploaded_file.read())
    if not count and not errors:
        errors = [{"row": 2, "message": _("The file has no data rows.")}]
    with transaction.atomic():
        data_import = SharedDataImport.objects.create(
            source=source,
            original_name=uploaded_file.name[:200],
            uploaded_by=actor,
            status=SharedDataImport.Status.INVALID if errors else SharedDataImport.Status.LOADED,
            row_count=count,
            error_count=len(errors),
            errors=errors[:1000],
        )
        if not errors:
            for record in records:
                record.data_import = data_import
            SharedRecord.objects.bulk_create(records, batch_size=BATCH)
    return data_import


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed([("file", _("The file is neither UTF-8 nor GB18030 text."))])


def _parse(source: str, raw: bytes) -> tuple[list[SharedRecord], list[dict], int]:
    fmt = FORMATS[source]
    reader = csv.reader(io.StringIO(_decode(raw)))
    header = [h.strip() for h in next(reader, [])]
    expected = ["身份证号", *[h for h, _m in fmt.columns]]
    if header[: len(expected)] != expected:
        return (
            [],
            [
                {
                    "row": 1,
                    "message": _("The header must be: %(columns)s")
                    % {"columns": ",".join(expected)},
                }
            ],
            0,
        )
    records, errors, count = [], [], 0
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        count += 1
        record, problems = _record(source, fmt, [c.strip() for c in cells] + [""] * 5)
        errors += [{"row": number, "message": p} for p in problems]
        if record is not None:
            records.append(record)
    return records, errors, count


def _record(source: str, fmt: Format, cells: list[str]) -> tuple[SharedRecord | None, list]:
    problems = []
    try:
        number = idnumber.parse(cells[0], today=timezone.localdate()).number
    except Exception as exc:  # ValidationError with a clerk-readable message
        problems.append(getattr(exc, "messages", [str(exc)])[0])
        number = ""
    values = {"kind": fmt.kinds[0] if len(fmt.kinds) == 1 else ""}
    for (header, meaning), cell in zip(fmt.columns, cells[1:], strict=False):
        if meaning in ("amount", "area"):
            try:
                values[meaning] = Decimal(cell.replace(",", "")) if cell else None
            except InvalidOperation:
                problems.append(
                    _("%(column)s is not a number: %(value)s") % {"column": header, "value": cell}
                )
                continue
            if values[meaning] is not None and values[meaning] < 0:
                problems.append(_("%(column)s cannot be negative.") % {"column": header})
        else:
            values[meaning] = cell
    if values["kind"] not in fmt.kinds:
        problems.append(
            _("Unknown type “%(value)s”; expected one of: %(kinds)s")
            % {"value": values["kind"], "kinds": ", ".join(fmt.kinds)}
        )
    if problems:
        return None, problems
    return SharedRecord(
        source=source,
        id_number=number,
        kind=values["kind"],
        amount=values.get("amount"),
        area=values.get("area"),
        detail=values.get("detail", "")[:200],
    ), []


# --- The adapter ----------------------------------------------------------------------------


class SharedData(Protocol):
    def records_for(self, id_numbers: list[str]) -> dict[str, list[SharedRecord]]:
        """Every fact known about these people, by ID number."""

    def imports_used(self) -> list[SharedDataImport]:
        """What the facts came from, recorded on the run."""


class FileImportData:
    """Facts from every file loaded here (a department may send several, e.g. one per bank;
    together they are what it knows)."""

    def __init__(self):
        self._imports = list(
            SharedDataImport.objects.filter(status=SharedDataImport.Status.LOADED, row_count__gt=0)
        )

    def imports_used(self) -> list[SharedDataImport]:
        return self._imports

    def records_for(self, id_numbers: list[str]) -> dict[str, list[SharedRecord]]:
        found = defaultdict(list)
        for record in SharedRecord.objects.filter(
            data_import__in=self._imports, id_number_digest__in=id_numbers
        ):
            found[record.id_number].append(record)
        return found


# --- Runs -----------------------------------------------------------------------------------


@transaction.atomic
def verification_run_start(*, actor, region_code: str) -> VerificationRun:
    if actor.role not in RUN_ROLES or not in_jurisdiction(actor, region_code):
        raise OutOfScopeError(_("You may not run a verification for this region."))
    # The caller queues ``tasks.verification_run_execute`` (tasks import this module).
    return VerificationRun.objects.create(region_code=region_code, requested_by=actor)


def verification_run_execute(*, run_id: int, source: SharedData | None = None) -> None:
    """Check every household of the run's region, a batch at a time. One worker at a time
    holds the run; if it dies midway, the re-delivered task drops its findings and starts
    again. The events for the findings and the end of the run are written together."""
    with exclusive(f"verification_run:{run_id}") as mine:
        run = VerificationRun.objects.select_related("requested_by__jurisdiction").get(pk=run_id)
        waiting = (VerificationRun.Status.QUEUED, VerificationRun.Status.RUNNING)
        if not mine or run.status not in waiting:
            return  # held by another worker, or already run (a re-delivered task)
        if run.status == VerificationRun.Status.RUNNING:
            VerificationFinding.objects.filter(run=run).delete()  # a dead worker's batches
        VerificationRun.objects.filter(pk=run_id).update(
            status=VerificationRun.Status.RUNNING, started_at=timezone.now()
        )
        _run_execute(run, source or FileImportData())


def _run_execute(run: VerificationRun, source: SharedData) -> None:
    try:
        households = (
            scope_to_jurisdiction(
                Household.objects.all(), user=run.requested_by, code_field="region__code"
            )
            .filter(region__code__startswith=Region.prefix_of_code(run.region_code))
            .order_by("id")
        )
        ids = list(households.values_list("id", flat=True))
        findings = 0
        policies = _policy_cache(timezone.localdate())
        for start in range(0, len(ids), BATCH):
            findings += _check_batch(run, ids[start : start + BATCH], source, policies)
        with transaction.atomic():
            run.imports.set(source.imports_used())
            _events_for_findings(run)
            VerificationRun.objects.filter(pk=run.pk).update(
                status=VerificationRun.Status.DONE,
                household_count=len(ids),
                finding_count=findings,
                finished_at=timezone.now(),
            )
    except Exception:
        VerificationRun.objects.filter(pk=run.pk).update(
            status=VerificationRun.Status.FAILED, finished_at=timezone.now()
        )
        raise


def _events_for_findings(run) -> None:
    """Households that receive assistance and have a disqualifying finding the previous run
    covering them did not have: their assistance is reviewed. A finding already reported
    (and reviewed, perhaps kept on purpose) is not reported again by every run."""
    from beneficiaries.models import Entitlement, HouseholdEvent

    flagged = (
        VerificationFinding.objects.filter(run=run, disqualifying=True)
        .filter(
            household__in=Entitlement.objects.filter(status__in=["active", "suspended"]).values(
                "household"
            )
        )
        .values_list("household_id", "household__region__code", "code", "member_id", "message")
        .order_by("household_id", "id")
    )
    found: dict[int, list[tuple]] = defaultdict(list)
    codes: dict[int, str] = {}
    for household_id, region_code, code, member_id, message in flagged:
        found[household_id].append((code, member_id, message))
        codes[household_id] = region_code
    previous = _previous_runs(run, codes)
    known = set()
    ids = list(previous)
    for start in range(0, len(ids), BATCH):
        known |= set(
            VerificationFinding.objects.filter(
                run_id__in=set(previous.values()),
                household_id__in=ids[start : start + BATCH],
                disqualifying=True,
            ).values_list("run_id", "household_id", "code", "member_id")
        )
    events: dict[int, str] = {}
    for household_id, rows in found.items():
        run_before = previous.get(household_id)
        new = [
            m for code, member, m in rows if (run_before, household_id, code, member) not in known
        ]
        if new:
            events[household_id] = new[0]
    HouseholdEvent.objects.bulk_create(
        HouseholdEvent(
            household_id=household_id, kind=HouseholdEvent.Kind.VERIFICATION, detail=message[:200]
        )
        for household_id, message in events.items()
    )


def _previous_runs(run, region_codes: dict[int, str]) -> dict[int, int]:
    """For each household (id → its village code), the latest finished run before ``run`` that
    covered it. A run covers a region prefix, so only the household code's four prefixes can
    match: the latest run per prefix is all that is needed."""
    latest: dict[str, tuple] = {}
    earlier = VerificationRun.objects.filter(
        status=VerificationRun.Status.DONE, created_at__lt=run.created_at
    ).values_list("pk", "region_code", "created_at")
    for pk, region_code, created_at in earlier:
        prefix = Region.prefix_of_code(region_code)
        if prefix not in latest or latest[prefix] < (created_at, pk):
            latest[prefix] = (created_at, pk)
    previous = {}
    for household_id, code in region_codes.items():
        covering = [latest[code[:n]] for n in (2, 6, 9, 12) if code[:n] in latest]
        if covering:
            previous[household_id] = max(covering)[1]
    return previous


def _policy_cache(today):
    """The figures per (residence, district), looked up once per run, not per household."""
    cache = {}

    def get(residence: str, district: str):
        if (residence, district) not in cache:
            cache[residence, district] = policy_for(
                as_of=today, residence=residence, district_code=district
            )[0]
        return cache[residence, district]

    return get


def _check_batch(
    run: VerificationRun, household_ids: list[int], source: SharedData, policies
) -> int:
    households = {
        h.pk: h for h in Household.objects.filter(pk__in=household_ids).select_related("region")
    }
    members = defaultdict(list)
    for member in Member.objects.filter(household_id__in=household_ids, is_current=True):
        members[member.household_id].append(member)
    today = timezone.localdate()
    declared_incomes = defaultdict(list)
    for income in IncomeItem.objects.filter(
        member__household_id__in=household_ids, member__is_current=True
    ):
        if income.in_force(today):
            declared_incomes[income.member_id].append(income)
    declared_assets = defaultdict(list)
    for asset in Asset.objects.filter(household_id__in=household_ids):
        declared_assets[asset.household_id].append(asset)
    facts = source.records_for([m.id_number for group in members.values() for m in group])
    rows = []
    for pk, household in households.items():
        policy = policies(household.residence_type, household.region.code[:6])
        context = HouseholdFacts(
            household, members[pk], declared_incomes, declared_assets[pk], facts, policy
        )
        rows += [VerificationFinding(run=run, household=household, **f) for f in context.findings()]
    VerificationFinding.objects.bulk_create(rows, batch_size=BATCH)
    return len(rows)


@dataclass
class HouseholdFacts:
    household: Household
    members: list[Member]
    incomes: dict
    assets: list[Asset]
    facts: dict
    policy: object

    def findings(self) -> list[dict]:
        found = []
        for check in (
            self._vehicles,
            self._deposits,
            self._businesses,
            self._property,
            self._pensions,
            self._tax,
            self._hukou,
        ):
            found += check()
        return found

    def _records(self, source):
        return [
            (m, r)
            for m in self.members
            for r in self.facts.get(m.id_number, [])
            if r.source == source
        ]

    def _declared(self, *types) -> list[Asset]:
        return [a for a in self.assets if a.type in types]

    def _vehicles(self):
        cars = [
            (m, r) for m, r in self._records(SharedSource.VEHICLE) if r.kind != "disability_vehicle"
        ]
        if cars and not self._declared("vehicle"):
            member, record = cars[0]
            return [
                {
                    "member": member,
                    "source": SharedSource.VEHICLE,
                    "code": "undeclared_vehicle",
                    "disqualifying": True,
                    "message": _(
                        "%(name)s has a registered vehicle (%(plate)s) that the "
                        "household did not declare."
                    )
                    % {"name": member.name, "plate": record.detail or "—"},
                }
            ]
        return []

    def _deposits(self):
        balance = sum(
            (r.amount or 0 for m, r in self._records(SharedSource.BANK) if m.lives_with_household),
            Decimal(0),
        )
        size = sum(m.lives_with_household for m in self.members)
        limit = size * self.policy.get("dibao_standard") * self.policy.get("deposit_months")
        if balance > limit:
            return [
                {
                    "member": None,
                    "source": SharedSource.BANK,
                    "code": "deposits_over_limit",
                    "disqualifying": True,
                    "message": _(
                        "Bank balances of %(balance)s yuan exceed the limit of %(limit)s yuan."
                    )
                    % {"balance": balance, "limit": limit},
                }
            ]
        return []

    def _businesses(self):
        return [
            {
                "member": m,
                "source": SharedSource.MARKET_ENTITY,
                "code": "company_registered",
                "disqualifying": True,
                "message": _("%(name)s is registered as the owner of %(company)s.")
                % {"name": m.name, "company": r.detail or _("a company")},
            }
            for m, r in self._records(SharedSource.MARKET_ENTITY)
            if r.kind == "company"
        ]

    def _property(self):
        found = []
        records = self._records(SharedSource.REAL_ESTATE)
        if any(r.kind == "shopfront" for _m, r in records) and not self._declared("shopfront"):
            found.append(
                {
                    "member": None,
                    "source": SharedSource.REAL_ESTATE,
                    "code": "undeclared_shopfront",
                    "disqualifying": True,
                    "message": _("A shopfront is registered to the household."),
                }
            )
        # A house co-owned by two members appears once per owner: count addresses.
        houses = {r.detail or r.pk for _m, r in records if r.kind == "house"}
        declared = sum(a.count for a in self._declared("house"))
        if len(houses) > declared:
            found.append(
                {
                    "member": None,
                    "source": SharedSource.REAL_ESTATE,
                    "code": "undeclared_house",
                    "disqualifying": False,
                    "message": _("%(found)d houses are registered; %(declared)d were declared.")
                    % {"found": len(houses), "declared": declared},
                }
            )
        return found

    def _pensions(self):
        found = []
        for member, record in self._records(SharedSource.SOCIAL_INSURANCE):
            declared = sum(
                (
                    i.monthly_amount
                    for i in self.incomes.get(member.pk, [])
                    if i.type == record.kind
                ),
                Decimal(0),
            )
            if (record.amount or 0) > declared:
                found.append(
                    {
                        "member": member,
                        "source": SharedSource.SOCIAL_INSURANCE,
                        "code": f"{record.kind}_not_declared",
                        "disqualifying": False,
                        "message": _(
                            "%(name)s receives %(amount)s yuan a month (%(kind)s) "
                            "but declared %(declared)s."
                        )
                        % {
                            "name": member.name,
                            "amount": record.amount,
                            "kind": IncomeItem.Type(record.kind).label,
                            "declared": declared,
                        },
                    }
                )
        return found

    def _tax(self):
        found = []
        for member, record in self._records(SharedSource.TAX):
            declared = (
                sum(
                    (i.monthly_amount for i in self.incomes.get(member.pk, []) if i.is_counted),
                    Decimal(0),
                )
                * 12
            )
            if (record.amount or 0) > declared:
                found.append(
                    {
                        "member": member,
                        "source": SharedSource.TAX,
                        "code": "income_not_declared",
                        "disqualifying": False,
                        "message": _(
                            "%(name)s declared %(declared)s yuan a year to the tax "
                            "office, more than the %(ours)s yuan declared here."
                        )
                        % {"name": member.name, "declared": record.amount, "ours": declared},
                    }
                )
        return found

    def _hukou(self):
        return [
            {
                "member": m,
                "source": SharedSource.HUKOU,
                "code": f"hukou_{r.kind}",
                "disqualifying": False,
                "message": _("Hukou records %(name)s as %(status)s: update the register.")
                % {
                    "name": m.name,
                    "status": _("deceased") if r.kind == "deceased" else _("moved out"),
                },
            }
            for m, r in self._records(SharedSource.HUKOU)
            if r.kind != "normal"
        ]
