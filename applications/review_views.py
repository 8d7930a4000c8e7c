"""The review steps on the application page: each form posts here, the service decides, and
on a refusal the page comes back with the message next to what the user typed."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import role_required
from beneficiaries.views import READ_ROLES
from core.exceptions import DomainError, ValidationFailed
from eligibility import rules
from notices import selectors as notice_board
from notices import services as notices
from notices.models import Objection

from . import flows, review, selectors, workflow
from .models import Application, HomeVisit, Programme

STEP_ROLES = (Role.CLERK, Role.TOWNSHIP_REVIEWER, Role.DISTRICT_APPROVER)


def _errors(exc: DomainError) -> list[str]:
    return exc.messages


def _back(request, application, exc: DomainError | None, success: str):
    """Success: back to the page with a message. Refusal: the page again, with the errors
    and the user's input kept (status 400 or 409)."""
    if exc is None:
        messages.success(request, success)
        return redirect("applications:detail", pk=application.pk)
    from .views import render_detail

    application = selectors.application_get_for_user(user=request.user, pk=application.pk)
    return render_detail(
        request, application, errors=_errors(exc), posted=request.POST, status=exc.status_code
    )


def _get(request, pk) -> Application:
    return selectors.application_get_for_user(user=request.user, pk=pk)


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@require_POST
@role_required(*STEP_ROLES)
def act(request, pk, step):
    application = _get(request, pk)
    if step in flows.INTERNAL or not any(a == step for (_s, a) in flows.TRANSITIONS):
        raise Http404
    post = request.POST
    data = {
        key: post[key]
        for key in ("amount", "klass", "opinion", "override_reason")
        if post.get(key, "") != ""
    }
    try:
        workflow.transition(
            actor=request.user,
            application=application,
            action=step,
            expected_version=_int(post.get("version")),
            reason=post.get("reason", ""),
            **data,
        )
    except DomainError as exc:
        return _back(request, application, exc, "")
    return _back(request, application, None, _("Done: %(step)s.") % {"step": _label(step)})


def _label(step: str) -> str:
    return str(workflow.ACTION_LABELS.get(step, step))


@require_POST
@role_required(*STEP_ROLES)
def visit(request, pk):
    application = _get(request, pk)
    post = request.POST
    kind = (
        HomeVisit.Kind.SPOT_CHECK
        if request.user.role == Role.DISTRICT_APPROVER
        else HomeVisit.Kind.INVESTIGATION
    )
    visited_on = _date(post.get("visited_on", ""))
    try:
        if visited_on is None:
            raise ValidationFailed([("visited_on", _("Enter the date of the visit."))])
        review.home_visit_record(
            actor=request.user,
            application=application,
            kind=kind,
            visited_on=visited_on,
            second_staff=review.colleagues(application)
            .filter(pk=_int(post.get("second_staff")))
            .first(),
            findings=post.get("findings", ""),
        )
    except DomainError as exc:
        return _back(request, application, exc, "")
    success = (
        _("The district's home check was recorded.")
        if kind == HomeVisit.Kind.SPOT_CHECK
        else _("Home visit recorded.")
    )
    return _back(request, application, None, success)


@require_POST
@role_required(*flows.WINDOW)
def assess(request, pk):
    application = _get(request, pk)
    post = request.POST
    hardship = None
    if application.programme == Programme.TEMPORARY and post.get("type"):
        try:
            expense = Decimal(post["expense"]) if post.get("expense") else None
        except InvalidOperation:
            expense = None
        if expense is not None and (not expense.is_finite() or not 0 <= expense <= 10**8):
            expense = None
        hardship = rules.Hardship(post["type"], post.get("applicant_class", ""), expense)
    try:
        review.investigation_assess(actor=request.user, application=application, hardship=hardship)
    except DomainError as exc:
        return _back(request, application, exc, "")
    return _back(request, application, None, _("Assessment recorded."))


@require_POST
@role_required(*flows.WINDOW)
def appraisal(request, pk):
    application = _get(request, pk)
    post = request.POST
    try:
        held_on = _date(post.get("held_on", ""))
        if held_on is None:
            raise ValidationFailed([("held_on", _("Enter the date of the appraisal."))])
        review.appraisal_record(
            actor=request.user,
            application=application,
            expected_version=_int(post.get("version")),
            held_on=held_on,
            panel_size=_int(post.get("panel_size")),
            representatives=_int(post.get("representatives")),
            conclusion=post.get("conclusion", ""),
            note=post.get("note", ""),
        )
    except DomainError as exc:
        return _back(request, application, exc, "")
    return _back(request, application, None, _("Appraisal recorded."))


@require_POST
@role_required(*flows.EXTEND_ROLES)
def extend(request, pk):
    application = _get(request, pk)
    try:
        review.application_extend(
            actor=request.user,
            application=application,
            expected_version=_int(request.POST.get("version")),
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _back(request, application, exc, "")
    return _back(request, application, None, _("The time limit was extended."))


@require_POST
@role_required(*flows.TOWNSHIP)
def objection_dismiss(request, pk, objection_pk):
    application = _get(request, pk)
    objection = notice_board.objections_of(application=application).filter(pk=objection_pk).first()
    if objection is None:
        raise Http404
    try:
        notices.objection_dismiss(
            actor=request.user, objection=objection, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        return _back(request, application, exc, "")
    return _back(request, application, None, _("The objection was recorded as unfounded."))


@require_POST
@role_required(Role.DISTRICT_APPROVER)
def spot_check_draw(request):
    try:
        draw = review.spot_check_draw(actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("workbench:home")
    if draw is None:
        messages.info(request, _("No case is waiting for the draw."))
    else:
        messages.success(
            request,
            _("Drawn: %(n)d of %(total)d cases are to be checked at home (seed %(seed)d).")
            % {"n": len(draw.selected), "total": len(draw.population), "seed": draw.seed},
        )
    return redirect("workbench:home")


@role_required(*READ_ROLES)
def letter(request, pk):
    """The decision letter: the refusal with its reasons and the right to appeal, or the
    approval notice with the amount and the first month paid."""
    application = _get(request, pk)
    if application.status not in (Application.Status.APPROVED, Application.Status.REJECTED):
        raise Http404
    entitlement = (
        application.household.entitlements.filter(source=application.number).first()
        if application.status == Application.Status.APPROVED
        else None
    )
    return render(
        request,
        "applications/letter.html",
        {
            "application": application,
            "entitlement": entitlement,
            "decided_by_district": application.decided_by is not None
            and application.decided_by.role == Role.DISTRICT_APPROVER,
            "today": timezone.localdate(),
            "open_objections": Objection.Status.OPEN,
        },
    )


review_urlpatterns = [
    path("<int:pk>/act/<slug:step>/", act, name="act"),
    path("<int:pk>/visit/", visit, name="visit"),
    path("<int:pk>/assess/", assess, name="assess"),
    path("<int:pk>/appraisal/", appraisal, name="appraisal"),
    path("<int:pk>/extend/", extend, name="extend"),
    path(
        "<int:pk>/objections/<int:objection_pk>/dismiss/",
        objection_dismiss,
        name="objection_dismiss",
    ),
    path("<int:pk>/letter/", letter, name="letter"),
    path("spot-check/draw/", spot_check_draw, name="spot_check_draw"),
]
