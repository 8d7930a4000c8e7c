from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from core.audit import change_rows
from core.exceptions import DomainError, OutOfScopeError, ValidationFailed
from core.pagination import CappedPaginator

from . import economics_services, idnumber, selectors, services
from .forms import (
    AssetFormSet,
    ExpenditureFormSet,
    HouseholdForm,
    IncomeFormSet,
    JobReferralForm,
    MemberFormSet,
    MoveForm,
    SearchForm,
)
from .models import Asset, DuplicateCandidate, Expenditure, IncomeItem, JobReferral, Member
from .templatetags.privacy import mask_sensitive

PAGE_SIZE = 20
READ_ROLES = (
    Role.CLERK,
    Role.TOWNSHIP_REVIEWER,
    Role.DISTRICT_APPROVER,
    Role.CITY_ADMIN,
    Role.AUDITOR,
    Role.VILLAGE_WORKER,
)
WRITE_ROLES = tuple(services.WRITE_ROLES)
FLAGS = ("poverty_registered", "marginal", "separately_registered")


@role_required(*READ_ROLES)
def household_search(request):
    form = SearchForm(request.GET or None, user=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    flags = [f for f in FLAGS if request.GET.get(f)]
    households = selectors.household_list(user=request.user, flags=flags, **filters)
    page = CappedPaginator(households, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "searched": bool(filters),
        # ID numbers are encrypted and found by a keyed hash: only a whole number matches.
        "partial_id": 0 < len(idnumber.normalize(filters.get("id_number", ""))) < 18,
        "can_register": request.user.role in WRITE_ROLES,
        "flags": flags,
    }
    template = "beneficiaries/_results.html" if request.htmx else "beneficiaries/search.html"
    return render(request, template, context)


@role_required(*READ_ROLES)
def household_detail(request, pk):
    household = selectors.household_detail(user=request.user, pk=pk)
    history = Paginator(
        selectors.household_history(user=request.user, household=household), 20
    ).get_page(request.GET.get("history_page"))
    for event in history.object_list:  # full values only through the logged reveal
        event.change_rows = change_rows(event, mask=mask_sensitive)
    return render(
        request,
        "beneficiaries/detail.html",
        {
            "household": household,
            "members": _with_capacity(household.current_members),
            "can_decide_absence": services.can_decide_absence(request.user, household),
            "job_referrals": JobReferral.objects.filter(member__household=household)
            .select_related("member")
            .order_by("-offered_on", "-id"),
            "job_form": JobReferralForm(household=household),
            "summary": selectors.counted_summary(household),
            "history": history,
            "can_edit": services.can_write(request.user, household.region),
            "can_reveal": selectors.may_see_sensitive(request.user, household),
            "move_form": MoveForm(),
        },
    )


@require_POST
@role_required(*READ_ROLES)
def household_reveal(request, pk):
    """Show the full ID numbers, phone and bank account (logged)."""
    household = selectors.household_detail(user=request.user, pk=pk)
    try:
        services.household_sensitive_view(actor=request.user, household=household)
    except OutOfScopeError:
        raise PermissionDenied from None
    return render(
        request,
        "beneficiaries/_sensitive.html",
        {
            "household": household,
            "members": _with_capacity(household.current_members),
            "can_decide_absence": services.can_decide_absence(request.user, household),
            "revealed": True,
        },
    )


def _with_capacity(members):
    """Members with today's labour capacity (from age and disability, or as recorded)."""
    today = timezone.localdate()
    for member in members:
        member.capacity_today = member.capacity(today)
    return members


@require_POST
@role_required(*services.WRITE_ROLES)
def job_referral(request, pk):
    household = selectors.household_get_for_user(user=request.user, pk=pk, write=True)
    form = JobReferralForm(request.POST, household=household)
    if not form.is_valid():
        messages.error(request, _("Fill in the member, the date, the job and the outcome."))
        return redirect("beneficiaries:detail", pk=household.pk)
    try:
        services.job_referral_record(actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The job referral was recorded."))
    return redirect("beneficiaries:detail", pk=household.pk)


@require_POST
@role_required(Role.TOWNSHIP_REVIEWER)
def absence_decide(request, pk):
    member = (
        Member.objects.filter(pk=pk, is_current=True)
        .filter(household__in=selectors.household_scope(user=request.user))
        .first()
    )
    if member is None:
        raise Http404
    try:
        services.member_absence_decide(
            actor=request.user,
            member=member,
            counted=request.POST.get("counted") == "yes",
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The decision was recorded."))
    return redirect("beneficiaries:detail", pk=member.household_id)


def _apply_errors(exc: ValidationFailed, form, formsets: dict) -> None:
    """Show each (path, message) from a service next to its field."""
    for path, message in exc.errors:
        head, _sep, rest = path.partition(".")
        if head in formsets and rest:
            index, _sep, field = rest.partition(".")
            forms = formsets[head].row_forms
            target = forms[int(index)] if index.isdigit() and int(index) < len(forms) else None
            if target is not None:
                target.add_error(field if field in target.fields else None, message)
                continue
            formsets[head]._non_form_errors.append(message)
        elif form is not None and head in form.fields:
            form.add_error(head, message)
        elif head in formsets:
            formsets[head]._non_form_errors.append(message)
        else:
            (form or next(iter(formsets.values()))).add_error(None, message)


def _deleted(form) -> bool:
    return form.cleaned_data.get("DELETE", False) if hasattr(form, "cleaned_data") else False


@role_required(*WRITE_ROLES)
def household_create(request):
    form = HouseholdForm(request.POST or None, user=request.user)
    members = MemberFormSet(
        request.POST or None, prefix="members", initial=[{"relation": Member.Relation.HEAD}]
    )
    if request.method == "POST" and form.is_valid() and members.is_valid():
        try:
            household = services.household_create(
                actor=request.user,
                region=form.cleaned_data["region"],
                fields=form.cleaned_data,
                members=_rows(members),
            )
        except ValidationFailed as exc:
            _apply_errors(exc, form, {"members": members})
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Household %(number)s registered.") % {"number": household.number}
            )
            return redirect("beneficiaries:detail", pk=household.pk)
    return render(
        request, "beneficiaries/edit.html", {"form": form, "members": members, "household": None}
    )


@role_required(*WRITE_ROLES)
def household_edit(request, pk):
    household = selectors.household_get_for_user(user=request.user, pk=pk, write=True)
    current = household.members.filter(is_current=True).order_by("id")
    form = HouseholdForm(request.POST or None, instance=household, user=request.user)
    members = MemberFormSet(request.POST or None, prefix="members", queryset=current)
    if request.method == "POST" and form.is_valid() and members.is_valid():
        try:
            services.household_update(
                actor=request.user,
                household=household,
                expected_version=form.cleaned_data["version"] or 0,
                region=form.cleaned_data["region"],
                fields=form.cleaned_data,
                members=_rows(members),
                removals=_removals(members),
            )
        except ValidationFailed as exc:
            _apply_errors(exc, form, {"members": members})
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("beneficiaries:detail", pk=household.pk)
    if request.method == "GET":  # the form shows full ID numbers, phone and bank account
        services.household_sensitive_view(actor=request.user, household=household)
    return render(
        request,
        "beneficiaries/edit.html",
        {"form": form, "members": members, "household": household},
    )


def _removals(formset) -> dict[int, str]:
    """{member id: leave reason} for the existing members marked for removal."""
    return {
        form.instance.pk: form.cleaned_data.get("leave_reason", "")
        for form in formset.forms
        if form.instance.pk and _deleted(form)
    }


def _version(request, default: int) -> int:
    try:
        return int(request.POST.get("version", default))
    except (TypeError, ValueError):
        return -1  # a mangled form: treated as stale, so nothing is overwritten


def _rows(formset) -> list[dict]:
    """The formset's rows as plain dicts for a service: kept rows only, each with ``id`` (None
    for a new row). Remembers which form each row came from, to place the service's errors."""
    formset.row_forms = [
        form
        for form in formset.forms
        if not _deleted(form) and (form.instance.pk or form.has_changed())
    ]
    return [
        {
            **{k: v for k, v in form.cleaned_data.items() if k not in ("DELETE", "id")},
            "id": form.instance.pk,
        }
        for form in formset.row_forms
    ]


@role_required(*WRITE_ROLES)
def household_economics(request, pk):
    household = selectors.household_get_for_user(user=request.user, pk=pk, write=True)
    data = request.POST or None
    members = household.members.filter(is_current=True).order_by("id")
    incomes = IncomeFormSet(
        data,
        prefix="incomes",
        form_kwargs={"members": members},
        queryset=IncomeItem.objects.filter(
            member__household=household, member__is_current=True
        ).order_by("id"),
    )
    assets = AssetFormSet(
        data, prefix="assets", queryset=Asset.objects.filter(household=household).order_by("id")
    )
    spending = ExpenditureFormSet(
        data,
        prefix="expenditures",
        queryset=Expenditure.objects.filter(household=household).order_by("id"),
    )
    formsets = {"incomes": incomes, "assets": assets, "expenditures": spending}
    version = _version(request, household.version)
    if request.method == "POST" and all(f.is_valid() for f in formsets.values()):
        try:
            economics_services.household_economics_update(
                actor=request.user,
                household=household,
                expected_version=version,
                incomes=_rows(incomes),
                assets=_rows(assets),
                expenditures=_rows(spending),
            )
        except ValidationFailed as exc:
            _apply_errors(exc, None, formsets)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Income, assets and spending saved."))
            return redirect("beneficiaries:detail", pk=household.pk)
    return render(
        request,
        "beneficiaries/economics.html",
        {"household": household, "version": version, **formsets},
    )


@require_POST
@role_required(*WRITE_ROLES)
def member_move(request, pk):
    """Move a person registered elsewhere into this household, with a reason."""
    household = selectors.household_get_for_user(user=request.user, pk=pk, write=True)
    form = MoveForm(request.POST)
    if form.is_valid():
        found = selectors.person_locate(
            user=request.user, id_number=form.cleaned_data["id_number"], exclude_household=household
        )
        if found is None:
            messages.error(
                request,
                _("No registered person has this ID number. Add them as a new member instead."),
            )
        elif not found.visible:
            messages.error(
                request,
                _(
                    "This person is registered in another jurisdiction. Ask "
                    "that township or the district to move them."
                ),
            )
        else:
            try:
                services.member_move(
                    actor=request.user,
                    member=found.member,
                    to_household=household,
                    relation=form.cleaned_data["relation"],
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request, _("%(name)s moved into this household.") % {"name": found.member.name}
                )
    else:
        messages.error(request, _("Enter the ID number, the relation and the reason."))
    return redirect("beneficiaries:detail", pk=household.pk)


@require_POST
@role_required(*WRITE_ROLES)
def person_check(request):
    """As the clerk types an ID number (htmx, POST so numbers stay out of URLs and logs):
    the sex and birth date it gives, or what is wrong with it, and whether the person is
    registered already."""
    # The member rows name their field members-N-id_number.
    number = next((v for k, v in request.POST.items() if k.endswith("id_number")), "")
    context = {"number": number}
    if number:
        try:
            parsed = idnumber.parse(number, today=timezone.localdate())
            context.update(parsed=parsed, sex=Member.Sex(parsed.sex).label)
        except ValidationError as exc:
            context["error"] = exc.messages[0]
        else:
            context["found"] = selectors.person_locate(user=request.user, id_number=number)
    return render(request, "beneficiaries/_person_check.html", context)


# The report's two lists, each paged on its own: (kind, its page's query parameter).
DUPLICATE_LISTS = (
    (DuplicateCandidate.Kind.SAME_NAME_AND_BIRTH, "birth_page"),
    (DuplicateCandidate.Kind.ID_TYPO, "typo_page"),
)
DUPLICATES_PER_PAGE = 25


@role_required(Role.CITY_ADMIN)
def duplicate_report(request):
    """The likely duplicates the last nightly run found (``duplicates``); nothing is
    computed here."""
    services.duplicate_report_viewed(actor=request.user)
    run = selectors.duplicates_last_run()
    context = {"run": run, "nightly_at": _daily_at("duplicates-find")}
    if run is not None:
        context["lists"] = [
            _duplicate_page(request, kind, param) for kind, param in DUPLICATE_LISTS
        ]
    return render(request, "beneficiaries/duplicates.html", context)


def _duplicate_page(request, kind: str, param: str) -> dict:
    pairs = selectors.duplicate_candidates(user=request.user, kind=kind)
    page = Paginator(pairs.values_list("pk", flat=True), DUPLICATES_PER_PAGE).get_page(
        request.GET.get(param)
    )
    page.object_list = selectors.duplicate_pairs(list(page.object_list))
    others = request.GET.copy()  # the other list stays on its page
    others.pop(param, None)
    return {"kind": kind, "page": page, "page_param": param, "query": others.urlencode()}


def _daily_at(entry: str) -> str:
    """The time of day a beat entry runs ("03:30"), as the settings schedule it."""
    cron = settings.CELERY_BEAT_SCHEDULE[entry]["schedule"]
    return f"{min(cron.hour):02d}:{min(cron.minute):02d}"
