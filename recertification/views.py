"""Pages of dynamic management: the township's review queue, a review's page, a change
reported at the window, a reviewer's class override, and applying a new standard."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from applications import flows, workflow
from beneficiaries import selectors as registry
from beneficiaries.models import Entitlement
from beneficiaries.views import READ_ROLES
from core.exceptions import DomainError, ValidationFailed
from core.jobs import BACKGROUND_UNREACHABLE, queue
from notices import selectors as notice_board
from notices import services as notices

from . import selectors, tasks
from . import services as dynamic
from .classes import class_for_entitlement
from .models import Review


class QueueFilter(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("Show"),
        required=False,
        choices=[
            ("open", gettext_lazy("Open")),
            ("overdue", gettext_lazy("Overdue")),
            ("noticed", gettext_lazy("Termination notice")),
            ("district", gettext_lazy("Termination awaiting the district")),
            ("decided", gettext_lazy("Decided")),
        ],
    )
    klass = forms.ChoiceField(
        label=gettext_lazy("Class"),
        required=False,
        choices=[("", gettext_lazy("Any")), ("A", "A"), ("B", "B"), ("C", "C")],
    )


@role_required(*READ_ROLES)
def review_queue(request):
    """Reviews in the user's jurisdiction: due first, overdue marked, by class."""
    form = QueueFilter(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = selectors.review_search(
        user=request.user, state=data.get("state") or "open", klass=data.get("klass", "")
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "recertification/reviews.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "today": timezone.localdate(),
            "counts": selectors.review_counts(user=request.user),
        },
    )


@role_required(*READ_ROLES)
def review_detail(request, pk, *, errors=(), posted=None, status=200):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    entitlement = review.entitlement
    role = request.user.role
    can_work = role in flows.WINDOW and review.status == Review.Status.OPEN
    computed = None
    if review.assessment_id:
        value = review.assessment.result.get("monthly_amount")
        computed = value
    return render(
        request,
        "recertification/review.html",
        {
            "review": review,
            "entitlement": entitlement,
            "household": entitlement.household,
            "changes": entitlement.changes.all(),
            "can_work": can_work,
            "can_decide": review.status == Review.Status.OPEN
            and role in dynamic.DECIDERS
            and not dynamic.recorded_the_visit(review, request.user),
            "who_decides": _who_decides(review, request.user),
            "computed": computed,
            "derived": class_for_entitlement(entitlement, timezone.localdate()),
            "findings": workflow.disqualifying_findings_for(entitlement.household),
            "notices": notice_board.notices_of(review=review),
            "objections": notice_board.objections_for_review(review=review),
            "can_see_objectors": notice_board.can_see_objectors(request.user),
            "can_terminate": role == Role.DISTRICT_APPROVER
            and review.status == Review.Status.DISTRICT,
            "can_handle_objections": role == Role.TOWNSHIP_REVIEWER
            and review.status == Review.Status.NOTICED,
            "outcomes": _outcomes(entitlement),
            "errors": errors,
            "posted": posted or {},
            "today": timezone.localdate(),
        },
        status=status,
    )


def _back(request, review, exc, success):
    if exc is None:
        messages.success(request, success)
        return redirect("recertification:review", pk=review.pk)
    errors = exc.messages
    return review_detail(
        request, review.pk, errors=errors, posted=request.POST, status=exc.status_code
    )


@require_POST
@role_required(Role.TOWNSHIP_REVIEWER)
def review_withdraw_termination(request, pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    try:
        dynamic.review_termination_withdraw(
            actor=request.user,
            review=review,
            expected_version=_version(request.POST),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _back(request, review, exc, "")
    return _back(request, review, None, _("The termination was withdrawn; decide again."))


@require_POST
@role_required(Role.TOWNSHIP_REVIEWER)
def review_objection_dismiss(request, pk, objection_pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    objection = notice_board.objections_for_review(review=review).filter(pk=objection_pk).first()
    if objection is None:
        raise Http404
    try:
        notices.objection_dismiss(
            actor=request.user, objection=objection, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        return _back(request, review, exc, "")
    return _back(request, review, None, _("The objection was recorded as unfounded."))


@require_POST
@role_required(Role.DISTRICT_APPROVER)
def review_termination(request, pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    confirm = request.POST.get("decision") == "confirm"
    try:
        dynamic.review_termination_decide(
            actor=request.user,
            review=review,
            expected_version=_version(request.POST),
            confirm=confirm,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _back(request, review, exc, "")
    return _back(
        request,
        review,
        None,
        _("Terminated from next month.") if confirm else _("Refused; the township decides again."),
    )


def _version(post) -> int:
    try:
        return int(post.get("version", "0"))
    except ValueError:
        return 0


@require_POST
@role_required(*flows.WINDOW)
def review_visit(request, pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    try:
        visited_on = dt.date.fromisoformat(request.POST.get("visited_on", ""))
    except ValueError:
        visited_on = None
    try:
        if visited_on is None:
            raise ValidationFailed([("visited_on", _("Enter the date of the visit."))])
        dynamic.review_record_visit(
            actor=request.user,
            review=review,
            visited_on=visited_on,
            findings=request.POST.get("findings", ""),
        )
    except DomainError as exc:
        return _back(request, review, exc, "")
    return _back(request, review, None, _("Recorded."))


@require_POST
@role_required(*flows.WINDOW)
def review_assess(request, pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    try:
        dynamic.review_assess(actor=request.user, review=review)
    except DomainError as exc:
        return _back(request, review, exc, "")
    return _back(request, review, None, _("Assessment recorded."))


def _outcomes(entitlement: Entitlement) -> list:
    """The outcomes that apply to this entitlement now (no "resume" for a running payment,
    no "suspend" for a suspended one, no second phase-out)."""
    skip = {Review.Outcome.SUSPEND, Review.Outcome.PHASE_OUT}
    if entitlement.status == Entitlement.Status.ACTIVE:
        skip = {Review.Outcome.RESUME} | (
            {Review.Outcome.PHASE_OUT} if entitlement.end_month else set()
        )
    return [(value, label) for value, label in Review.Outcome.choices if value not in skip]


def _who_decides(review: Review, user) -> str:
    """Why this user does not see the decision form, in words (empty when they do)."""
    if review.status != Review.Status.OPEN:
        return ""
    if dynamic.recorded_the_visit(review, user):
        return _(
            "You recorded this review's visit, so you do not decide it: another township "
            "reviewer or the district approver does."
        )
    if user.role not in dynamic.DECIDERS:
        return _("The township reviewer decides this review (or the district approver).")
    return ""


@require_POST
@role_required(*dynamic.DECIDERS)
def review_decide(request, pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    post = request.POST
    try:
        version = int(post.get("version", "0"))
    except ValueError:
        version = 0
    try:
        dynamic.review_decide(
            actor=request.user,
            review=review,
            expected_version=version,
            outcome=post.get("outcome", ""),
            reason=post.get("reason", ""),
            new_amount=post.get("new_amount") or None,
            new_class=post.get("new_class", ""),
        )
    except DomainError as exc:
        return _back(request, review, exc, "")
    return _back(request, review, None, _("The review was decided."))


class ReportForm(forms.Form):
    change = forms.CharField(
        label=gettext_lazy("What has changed (members, income, property, address)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
    )


@role_required(*flows.WINDOW)
def report_change(request, household_pk):
    """家庭主动申报: recorded at the window; opens a review of the household's assistance."""
    household = registry.household_get_for_user(user=request.user, pk=household_pk, write=True)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reviews = dynamic.review_report_change(
                actor=request.user, household=household, change=form.cleaned_data["change"]
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Recorded; a review of the assistance is open."))
            return redirect("recertification:review", pk=reviews[0].pk)
    return render(
        request, "recertification/report_change.html", {"household": household, "form": form}
    )


@require_POST
@role_required(Role.TOWNSHIP_REVIEWER)
def class_override(request, pk):
    entitlement = (
        registry.household_scope(user=request.user)
        .filter(entitlements__pk=pk)
        .values_list("entitlements__pk", flat=True)
        .first()
    )
    if entitlement is None:
        raise Http404
    entitlement = Entitlement.objects.get(pk=entitlement)
    try:
        dynamic.entitlement_override_class(
            actor=request.user,
            entitlement=entitlement,
            klass=request.POST.get("klass", ""),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Class set."))
    review_pk = request.POST.get("review")
    if review_pk and review_pk.isdigit():
        return redirect("recertification:review", pk=int(review_pk))
    return redirect("beneficiaries:detail", pk=entitlement.household_id)


@require_POST
@role_required(Role.CITY_ADMIN)
def recalculate(request):
    """A new standard: recompute every active entitlement from the month given."""
    try:
        month = dt.date.fromisoformat(request.POST.get("month", "") + "-01")
    except ValueError:
        messages.error(request, _("Enter the month the new standard applies from (YYYY-MM)."))
        return redirect("reports:jobs")
    if month < timezone.localdate().replace(day=1):
        messages.error(
            request,
            _("Months already paid are not recalculated here; enter this month or a later one."),
        )
        return redirect("reports:jobs")
    if not queue(tasks.recalculate, month.isoformat()):
        messages.error(request, BACKGROUND_UNREACHABLE)
        return redirect("reports:jobs")
    messages.success(
        request,
        _("Recalculation from %(month)s started; its progress is in the job runs below.")
        % {"month": f"{month:%Y-%m}"},
    )
    return redirect("reports:jobs")
