"""The permission matrix (issue 17): every route × every member of the cast × anonymous,
with the status each must get.

The routes are read from the URLconf (every pattern: pages, the admin, the API) and from the
OpenAPI schema (every method × path of the API): ``test_every_route_has_a_decision`` fails for
a pattern or an API operation without a row here, so no route is added without an access
decision. ``test_access`` then requests each row as every actor and compares the status.

The cast has one user per role, plus a clerk in another district (``clerk_other``) and a
district-level auditor (``auditor_district``); the objects a route takes sit in 渝中区 (some
also in 万州区), so each object row is seen from inside and from outside its jurisdiction.

Speed: the data (regions, cast, one object of each kind) is made once for the module, inside a
transaction rolled back at its end; each actor logs in once and its session is reused; each
row's requests run in a savepoint rolled back after the row."""

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from http.cookies import SimpleCookie

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import Resolver404
from django.utils import timezone

from accounts.models import SECOND_FACTOR_ROLES, StaffRelative, User
from applications.models import Scan
from applications.services import application_intake, lead_report
from beneficiaries.models import Entitlement, ImportBatch
from core.models import AuditEvent
from eligibility.models import SharedDataImport, VerificationRun
from recertification.models import Review

from .conftest import CAST_ROLES, StaffClient, Tree, make_tree, second_factor_for, totp_code
from .factories import TEST_PASSWORD, UserFactory, make_household, make_id, member_data

ANON = "anonymous"
ACTORS = [ANON, *CAST_ROLES]
STAFF = list(CAST_ROLES)
# Never case data: the district's funds officer (payments only) and the account and security
# administrators (三员分立). Refused by their role before the jurisdiction is looked at.
NO_CASES = ["finance", "account_admin", "security_admin"]
CASE_STAFF = [actor for actor in STAFF if actor not in NO_CASES]
OFFICERS = ["account_admin", "security_admin", "auditor", "auditor_district"]
# Those who work on cases, payments or policy (not the three officers).
BUSINESS = [actor for actor in STAFF if actor not in OFFICERS]


# Whose role needs the second factor (SECOND_FACTOR_ROLES): an API token needs its code too.
SECOND_FACTOR_STAFF = [a for a, (role, _place) in CAST_ROLES.items() if role in SECOND_FACTOR_ROLES]


def _token_request(actor: str, *, second_factor: bool) -> dict:
    data = {"username": actor, "password": TEST_PASSWORD}
    user = User.objects.filter(username=actor).first()
    if second_factor and user is not None and user.requires_second_factor:
        data["otp"] = totp_code(second_factor_for(user))
    return data


def statuses(default: int, **overrides: int) -> dict[str, int]:
    return {actor: overrides.get(actor, default) for actor in ACTORS}


def staff_only(staff: int = 200, **overrides: int) -> dict[str, int]:
    """Anonymous API callers get 403 (session auth sends no challenge)."""
    return statuses(staff, anonymous=403, **overrides)


def case_api(staff: int = 200, **overrides: int) -> dict[str, int]:
    """An API endpoint over case data: the roles that never read cases get 403."""
    return {**staff_only(staff), **dict.fromkeys(NO_CASES, 403), **overrides}


def pages_for(roles: list[str], *, other: int = 403) -> dict[str, int]:
    """A login-required page: anonymous → login redirect, listed roles 200, others ``other``."""
    result = statuses(other, anonymous=302)
    result.update(dict.fromkeys(roles, 200))
    return result


@dataclass
class Case:
    name: str  # the URL name (or, for an unnamed pattern, the pattern); rows may share one
    expected: dict[str, int]
    method: str = "get"
    kwargs: Callable[[Tree, dict], dict] = lambda tree, objs: {}
    data: Callable[[str], dict] = lambda actor: {}
    label: str = ""
    path: Callable[[Tree, dict], str] | None = None  # for an unnamed pattern
    args: Callable[[Tree, dict], list] | None = None  # for a pattern with positional groups
    extra: dict = field(default_factory=dict)

    def url(self, tree, objs) -> str:
        if self.path is not None:
            return self.path(tree, objs)
        if self.args is not None:
            return reverse(self.name, args=self.args(tree, objs))
        return reverse(self.name, kwargs=self.kwargs(tree, objs))


def _wanzhou_event(tree: Tree, objs: dict) -> dict:
    return {"pk": objs["wanzhou_event"].pk}


def _yz(tree, objs):
    return {"pk": objs["yuzhong_household"].pk}


def _wz(tree, objs):
    return {"pk": objs["wanzhou_household"].pk}


YUZHONG_READERS = [
    "clerk",
    "township_reviewer",
    "district_approver",
    "city_admin",
    "auditor",
    "village_worker",
    "auditor_district",
]
WANZHOU_READERS = ["clerk_other", "city_admin", "auditor"]
SENSITIVE = ["clerk", "township_reviewer", "district_approver", "auditor", "auditor_district"]


def scoped(readers: list[str], writers: list[str], ok: int = 200, *, api=False):
    """Out of jurisdiction: 404 (existence does not leak). In it: ``ok`` for ``writers``,
    403 for the other readers."""
    result = staff_only(404) if api else statuses(404, anonymous=302)
    result.update(dict.fromkeys(readers, 403))
    result.update(dict.fromkeys(writers, ok))
    result.update(dict.fromkeys(NO_CASES, 403))  # refused by role before the jurisdiction
    return result


CASES = [
    Case("accounts:login", statuses(302, anonymous=200)),
    Case("accounts:logout", statuses(302), method="post"),
    Case("workbench:home", pages_for(STAFF)),
    # The audit log is the auditors' (三员分立): not the city administrator's any more.
    Case("reports:audit_log", pages_for(["auditor", "auditor_district"])),
    Case("set_language", statuses(302), method="post", data=lambda actor: {"language": "en"}),
    Case("healthz", statuses(200)),
    Case("api-schema", staff_only()),
    Case("api-docs", staff_only()),
    Case("api:api-root", staff_only()),
    Case("api:me", staff_only()),
    Case("accounts:second_factor_verify", statuses(302), label="already passed or not needed"),
    Case("accounts:second_factor", statuses(200, anonymous=302)),
    Case(
        "api:token",
        statuses(200, anonymous=400),
        method="post",
        data=lambda actor: _token_request(actor, second_factor=True),
    ),
    Case(
        "api:token",
        statuses(200, anonymous=400, **dict.fromkeys(SECOND_FACTOR_STAFF, 400)),
        method="post",
        data=lambda actor: _token_request(actor, second_factor=False),
        label="password only",
    ),
    Case("api:region-list", staff_only()),
    Case(
        "api:region-detail",
        staff_only(
            404,
            **dict.fromkeys(
                [
                    "clerk",
                    "township_reviewer",
                    "district_approver",
                    "city_admin",
                    "auditor",
                    "village_worker",
                    "auditor_district",
                    "finance",
                    "account_admin",
                    "security_admin",
                ],
                200,
            ),
        ),
        kwargs=lambda tree, objs: {"pk": tree.village.pk},
        label="inside 渝中区",
    ),
    Case(
        "api:region-detail",
        staff_only(
            404,
            **dict.fromkeys(
                ["clerk_other", "city_admin", "auditor", "account_admin", "security_admin"], 200
            ),
        ),
        kwargs=lambda tree, objs: {"pk": tree.wanzhou_village.pk},
        label="inside 万州区",
    ),
    Case("api:audit-event-list", staff_only(403, auditor=200, auditor_district=200)),
    Case(
        "api:audit-event-detail",
        staff_only(403, auditor=200, auditor_district=404),
        kwargs=_wanzhou_event,
        label="event in 万州区",
    ),
    Case(
        "api:audit-event-detail",
        staff_only(403, auditor=200, auditor_district=200),
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_event"].pk},
        label="event in 渝中区",
    ),
]

WRITERS = ["clerk", "township_reviewer", "clerk_other"]


def write_view(in_scope: list[str], ok: int = 200) -> dict[str, int]:
    """Edit pages check the role first (403 for roles that never write), then the
    jurisdiction (404 for a writer elsewhere)."""
    result = statuses(403, anonymous=302)
    result.update(dict.fromkeys(WRITERS, 404))
    result.update(dict.fromkeys(in_scope, ok))
    return result


CASES += [
    Case("beneficiaries:search", pages_for(CASE_STAFF)),
    Case("beneficiaries:create", pages_for(["clerk", "township_reviewer", "clerk_other"])),
    Case(
        "beneficiaries:person_check",
        pages_for(WRITERS),
        method="post",
        data=lambda actor: {"members-0-id_number": "500103197001010118"},
    ),
    Case("beneficiaries:duplicates", pages_for(["city_admin"])),
    Case(
        "beneficiaries:detail",
        scoped(YUZHONG_READERS, YUZHONG_READERS),
        kwargs=_yz,
        label="渝中 household",
    ),
    Case(
        "beneficiaries:detail",
        scoped(WANZHOU_READERS, WANZHOU_READERS),
        kwargs=_wz,
        label="万州 household",
    ),
    Case(
        "beneficiaries:edit",
        write_view(["clerk", "township_reviewer"]),
        kwargs=_yz,
        label="渝中 household",
    ),
    Case(
        "beneficiaries:edit",
        write_view(["clerk_other"]),
        kwargs=_wz,
        label="万州 household",
    ),
    Case(
        "beneficiaries:economics",
        write_view(["clerk", "township_reviewer"]),
        kwargs=_yz,
    ),
    Case("beneficiaries:reveal", scoped(YUZHONG_READERS, SENSITIVE), method="post", kwargs=_yz),
    Case(
        "beneficiaries:move",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=_yz,
        data=lambda actor: {"id_number": "x", "relation": "child", "reason": "r"},
    ),
    Case(
        "beneficiaries:absence_decide",
        statuses(403, anonymous=302, township_reviewer=302),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_household"].head_id},
        data=lambda actor: {"counted": "yes", "reason": "r"},
    ),
    Case(
        "beneficiaries:job_referral",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=_yz,
        data=lambda actor: {"job": "保洁"},
    ),
    Case("api:household-list", case_api()),
    Case(
        "api:household-detail",
        scoped(YUZHONG_READERS, YUZHONG_READERS, api=True),
        kwargs=_yz,
        label="渝中 household",
    ),
    Case(
        "api:household-detail",
        scoped(WANZHOU_READERS, WANZHOU_READERS, api=True),
        kwargs=_wz,
        label="万州 household",
    ),
]


def _yz_batch(tree, objs):
    return {"pk": objs["yuzhong_batch"].pk}


IMPORTERS = ["district_approver", "city_admin"]
CASES += [
    Case("beneficiaries:import_list", pages_for(IMPORTERS)),
    Case("beneficiaries:import_template", pages_for(IMPORTERS)),
    Case("beneficiaries:import_detail", pages_for(IMPORTERS), kwargs=_yz_batch),
    Case("beneficiaries:import_errors_csv", pages_for(IMPORTERS), kwargs=_yz_batch),
    Case(
        "beneficiaries:import_commit",
        {**statuses(403, anonymous=302), **dict.fromkeys(IMPORTERS, 302)},
        method="post",
        kwargs=_yz_batch,
        data=lambda actor: {"confirm": "1"},
    ),
]

CASES += [
    Case("eligibility:household", scoped(YUZHONG_READERS, YUZHONG_READERS), kwargs=_yz),
    Case("api:eligibility-assess", staff_only(400), method="post"),
]


def _yz_review(tree, objs):
    return {"pk": objs["yuzhong_review"].pk}


def _yz_app(tree, objs):
    return {"pk": objs["yuzhong_application"].pk}


CASES += [
    Case(
        "applications:intake",
        write_view(["clerk", "township_reviewer"]),
        kwargs=lambda tree, objs: {"household_pk": objs["yuzhong_household"].pk},
    ),
    Case("applications:detail", scoped(YUZHONG_READERS, YUZHONG_READERS), kwargs=_yz_app),
    Case("applications:receipt", scoped(YUZHONG_READERS, YUZHONG_READERS), kwargs=_yz_app),
    Case("applications:notice", scoped(YUZHONG_READERS, YUZHONG_READERS), kwargs=_yz_app),
    Case(
        "applications:application_form",
        write_view(["clerk", "township_reviewer"]),
        kwargs=_yz_app,
    ),
    Case(
        "applications:visit_record",
        write_view(["clerk", "township_reviewer"], 404),  # no visit recorded yet: 404
        kwargs=_yz_app,
    ),
    Case(
        "applications:leads",
        pages_for(["clerk", "township_reviewer", "village_worker", "clerk_other"]),
    ),
    Case(
        "applications:lead_convert",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_lead"].pk},
    ),
    Case(
        "applications:referral_reply",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_referral"].pk},
        data=lambda actor: {"reply": ""},
    ),
    Case(
        "applications:scan_upload",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=_yz_app,
    ),
    Case(
        "applications:scan_download",  # village cadres see the case, not its papers (403)
        scoped(YUZHONG_READERS, [r for r in YUZHONG_READERS if r != "village_worker"]),
        kwargs=lambda tree, objs: {
            "pk": objs["yuzhong_application"].pk,
            "scan_pk": objs["yuzhong_scan"].pk,
        },
    ),
    Case("applications:list", pages_for(CASE_STAFF)),
    Case("applications:withdraw", write_view(["clerk", "township_reviewer"]), kwargs=_yz_app),
    Case(
        "applications:lead_contact",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_lead"].pk},
    ),
    Case("applications:relatives", pages_for(BUSINESS)),
    Case(
        "applications:relative_remove",
        {**statuses(404, anonymous=302, clerk=302), **dict.fromkeys(OFFICERS, 403)},
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["clerk_relative"].pk},
        label="the clerk's own declaration",
    ),
    Case(
        "applications:act",
        {**write_view(["clerk", "township_reviewer"], 409), "district_approver": 409},
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_application"].pk, "step": "withdraw"},
        data=lambda actor: {"version": 0, "reason": "x"},
        label="withdraw from a stale page",
    ),
    Case(
        "applications:visit",
        {**write_view(["clerk", "township_reviewer"], 400), "district_approver": 400},
        method="post",
        kwargs=_yz_app,
    ),
    Case(
        "applications:assess",
        write_view(["clerk", "township_reviewer"], 409),
        method="post",
        kwargs=_yz_app,
    ),
    Case(
        "applications:appraisal",
        write_view(["clerk", "township_reviewer"], 400),
        method="post",
        kwargs=_yz_app,
    ),
    Case(
        "applications:extend",
        {**statuses(403, anonymous=302), "township_reviewer": 409, "district_approver": 409},
        method="post",
        kwargs=_yz_app,
    ),
    Case(
        "applications:objection_dismiss",
        {**statuses(403, anonymous=302), "township_reviewer": 404},
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_application"].pk, "objection_pk": 999999},
        label="no such objection",
    ),
    Case(
        "applications:letter",
        {**statuses(404, anonymous=302), **dict.fromkeys(NO_CASES, 403)},
        kwargs=_yz_app,
        label="an open case has no letter yet",
    ),
    Case(
        "applications:spot_check_draw",
        {**statuses(403, anonymous=302), "district_approver": 302},
        method="post",
    ),
    Case("gongshi:index", statuses(200)),
    Case(
        "gongshi:region",
        statuses(200),
        kwargs=lambda tree, objs: {"code": tree.village.code},
    ),
    Case(
        "gongshi:board",
        statuses(200),
        kwargs=lambda tree, objs: {"code": tree.village.code},
    ),
    Case(
        "gongshi:objection",
        statuses(404),
        kwargs=lambda tree, objs: {"notice_pk": 999999},
        label="no such notice",
    ),
    Case("gongshi:objection_received", statuses(200)),
    Case(
        "api:application-events",
        scoped(YUZHONG_READERS, YUZHONG_READERS, api=True),
        kwargs=_yz_app,
    ),
    Case(  # roles that never move a case: 403 before their request is read
        "api:application-act",
        staff_only(403, clerk=400, township_reviewer=400, district_approver=400, clerk_other=404),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_application"].pk, "step": "withdraw"},
        label="no version sent",
    ),
    Case("api:public-notice-list", statuses(200)),
    Case("accounts:inbox", pages_for(STAFF)),
    Case("reports:jobs", pages_for(["city_admin"])),
    Case("recertification:reviews", pages_for(CASE_STAFF)),
    Case("recertification:review", scoped(YUZHONG_READERS, YUZHONG_READERS), kwargs=_yz_review),
    Case(
        "recertification:review_visit",
        write_view(["clerk", "township_reviewer"], 400),
        method="post",
        kwargs=_yz_review,
    ),
    Case(
        "recertification:review_assess",
        write_view(["clerk", "township_reviewer"], 302),
        method="post",
        kwargs=_yz_review,
    ),
    Case(
        "recertification:review_decide",  # the district may decide too (issue 13)
        {**statuses(403, anonymous=302), "township_reviewer": 409, "district_approver": 409},
        method="post",
        kwargs=_yz_review,
        label="from a stale page",
    ),
    Case(
        "recertification:review_termination",
        {**statuses(403, anonymous=302), "district_approver": 409},
        method="post",
        kwargs=_yz_review,
        label="nothing awaits the district",
    ),
    Case(
        "recertification:review_withdraw_termination",
        {**statuses(403, anonymous=302), "township_reviewer": 409},
        method="post",
        kwargs=_yz_review,
        label="nothing is noticed",
    ),
    Case(
        "recertification:review_objection_dismiss",
        {**statuses(403, anonymous=302), "township_reviewer": 404},
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_review"].pk, "objection_pk": 999999},
        label="no such objection",
    ),
    Case(
        "recertification:report_change",
        write_view(["clerk", "township_reviewer"]),
        kwargs=lambda tree, objs: {"household_pk": objs["yuzhong_household"].pk},
    ),
    Case(
        "recertification:class_override",
        {**statuses(403, anonymous=302), "township_reviewer": 302},
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_entitlement"].pk},
    ),
    Case(
        "recertification:recalculate",
        {**statuses(403, anonymous=302), "city_admin": 302},
        method="post",
        label="no month given",
    ),
    Case("api:entitlement-list", case_api()),
    Case(
        "api:entitlement-detail",
        scoped(YUZHONG_READERS, YUZHONG_READERS, api=True),
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_entitlement"].pk},
    ),
    Case(
        "api:entitlement-history",
        scoped(YUZHONG_READERS, YUZHONG_READERS, api=True),
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_entitlement"].pk},
    ),
    Case("api:review-list", case_api()),
    Case(
        "api:review-detail", scoped(YUZHONG_READERS, YUZHONG_READERS, api=True), kwargs=_yz_review
    ),
    Case(  # roles that never decide: 403 before their request is read
        "api:review-decide",
        staff_only(403, township_reviewer=400, district_approver=400),  # (district: issue 13)
        method="post",
        kwargs=_yz_review,
        label="nothing sent",
    ),
    Case("api:application-list", case_api()),
    Case(
        "api:application-detail", scoped(YUZHONG_READERS, YUZHONG_READERS, api=True), kwargs=_yz_app
    ),
    Case("api:referral-list", case_api()),
    Case(
        "api:referral-detail",
        scoped(YUZHONG_READERS, YUZHONG_READERS, api=True),
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_referral"].pk},
    ),
]

VERIFIERS = ["city_admin", "district_approver", "township_reviewer"]
CASES += [
    Case("eligibility:verification", pages_for(VERIFIERS)),
    Case(
        "eligibility:shared_upload",
        {**statuses(403, anonymous=302), "city_admin": 302},
        method="post",
    ),
    Case(
        "eligibility:shared_import",
        pages_for(["city_admin"]),
        kwargs=lambda tree, objs: {"pk": objs["shared_import"].pk},
    ),
    Case(
        "eligibility:run_start",
        {**statuses(403, anonymous=302), **dict.fromkeys(VERIFIERS, 302)},
        method="post",
    ),
    Case(
        "eligibility:run",
        {**pages_for(["city_admin", "district_approver"]), "township_reviewer": 404},
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_run"].pk},
        label="渝中 run",
    ),
]

PAYROLL_READERS = ["finance", "district_approver", "city_admin", "auditor", "auditor_district"]
# A household's payments: its caseworkers and those who see payrolls; not the village.
PAYMENT_READERS = [*PAYROLL_READERS, "clerk", "township_reviewer"]
# The township's payment queues: every business role but the village worker, and the auditors.
QUEUE_READERS = [
    actor for actor in STAFF if actor not in ("village_worker", "account_admin", "security_admin")
]


def _payroll(tree, objs):
    return {"pk": objs["yuzhong_payroll"].pk}


def _line(tree, objs):
    return {"pk": objs["yuzhong_line"].pk}


def _post_only(ok: dict[str, int], other: int = 403) -> dict[str, int]:
    result = statuses(other, anonymous=302)
    result.update(ok)
    return result


CASES += [
    Case("payments:payrolls", pages_for(PAYROLL_READERS)),
    Case("payments:payroll_request", _post_only({"finance": 302}), method="post"),
    Case("payments:payroll", pages_for(PAYROLL_READERS), kwargs=_payroll),
    Case("payments:payroll_print", pages_for(PAYROLL_READERS), kwargs=_payroll),
    Case(
        "payments:payroll_progress",
        {**pages_for(PAYROLL_READERS), **dict.fromkeys(PAYROLL_READERS, 302)},
        kwargs=_payroll,
        label="without htmx",
    ),
    # No allocation entered: the approver is asked for a reason (400, the page again).
    Case(
        "payments:payroll_approve",
        _post_only({"district_approver": 400}),
        method="post",
        kwargs=_payroll,
    ),
    Case("payments:payroll_cancel", _post_only({"finance": 400}), method="post", kwargs=_payroll),
    Case("payments:payroll_export", _post_only({"finance": 400}), method="post", kwargs=_payroll),
    Case("payments:payroll_result", _post_only({"finance": 400}), method="post", kwargs=_payroll),
    Case(
        "payments:bank_file",
        pages_for(["finance"]),
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_bank_file"].pk},
    ),
    Case(
        "payments:household",
        {**pages_for(PAYMENT_READERS), "clerk_other": 404},
        kwargs=_yz,
    ),
    Case("payments:to_fix", pages_for(QUEUE_READERS)),
    Case(
        "payments:reissue",
        _post_only({"clerk": 302, "township_reviewer": 302, "clerk_other": 404}),
        method="post",
        kwargs=_line,
    ),
    Case("payments:overpayments", pages_for(QUEUE_READERS)),
    Case(
        "payments:overpayment_resolve",
        _post_only({"township_reviewer": 302}),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_overpayment"].pk},
    ),
    Case("payments:checks", pages_for(QUEUE_READERS)),
    Case(
        "payments:check_record",
        _post_only({"clerk": 302, "township_reviewer": 302, "clerk_other": 404}),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_check"].pk},
    ),
    Case(
        "payments:check_resolve",
        _post_only({"township_reviewer": 302}),
        method="post",
        kwargs=lambda tree, objs: {"pk": objs["yuzhong_check"].pk},
    ),
    Case("payments:funds", pages_for(PAYROLL_READERS)),
    Case(
        "payments:allocation_set",
        _post_only({"finance": 302, "city_admin": 302}),
        method="post",
    ),
    Case(
        "api:payroll-list",
        staff_only(403, **dict.fromkeys(PAYROLL_READERS, 200)),
    ),
    Case(
        "api:payroll-detail",
        staff_only(403, **dict.fromkeys(PAYROLL_READERS, 200)),
        kwargs=_payroll,
    ),
    Case(
        "api:payroll-lines",
        staff_only(403, **dict.fromkeys(PAYROLL_READERS, 200)),
        kwargs=_payroll,
    ),
    Case(
        "api:payroll-approve",
        staff_only(403, district_approver=400),
        method="post",
        kwargs=_payroll,
        label="no allocation, no reason",
    ),
    Case(
        "api:payroll-bank-file",
        staff_only(403, finance=409),
        kwargs=_payroll,
        label="a draft has no file",
    ),
    Case(
        "api:payroll-bank-result",
        staff_only(403, finance=400),
        method="post",
        kwargs=_payroll,
        label="no file",
    ),
    Case(
        "api:household-payments",
        staff_only(403, **dict.fromkeys(PAYMENT_READERS, 200), clerk_other=404),
        kwargs=_yz,
    ),
]

EXPORTERS = ["auditor", "auditor_district", "city_admin", "district_approver"]


def _export(tree, objs):
    return {"pk": objs["auditor_export"].pk}


def _own_export(others: int) -> dict[str, int]:
    """An export is its requester's (the city auditor's): other exporters get 404."""
    return {**dict.fromkeys(EXPORTERS, others), "auditor": 200}


CASES += [
    Case("reports:exports", pages_for(EXPORTERS)),
    Case(
        "reports:export_download",
        {**statuses(403, anonymous=302), **_own_export(404)},
        kwargs=_export,
    ),
    Case(
        "api:export-list",
        staff_only(403, **dict.fromkeys(EXPORTERS, 400)),
        method="post",
        label="nothing sent",
    ),
    Case("api:export-detail", staff_only(403, **_own_export(404)), kwargs=_export),
    Case("api:export-download", staff_only(403, **_own_export(404)), kwargs=_export),
]

STATISTICS = ["auditor", "auditor_district", "city_admin", "district_approver"]
_YUZHONG_PERSONS = {"region": "500103000000", "programme": "dibao", "residence": "urban"}

CASES += [
    Case("reports:statistics", pages_for(STATISTICS)),
    Case("reports:statistics_download", pages_for(STATISTICS)),
    Case(
        "reports:statistics_rows",
        pages_for(STATISTICS),
        data=lambda actor: {**_YUZHONG_PERSONS, "figure": "persons"},
    ),
    Case(
        "reports:statistics_rows",
        pages_for(STATISTICS),
        data=lambda actor: {**_YUZHONG_PERSONS, "figure": "amount"},
        label="payments",
    ),
    Case(
        "reports:statistics_refresh",
        {**statuses(403, anonymous=302), "city_admin": 302},
        method="post",
    ),
    Case("reports:dashboard", pages_for(STATISTICS)),
    Case(
        "reports:dashboard_table",
        pages_for(STATISTICS),
        kwargs=lambda tree, objs: {"name": "recipients"},
    ),
    Case("reports:indicators", pages_for(STATISTICS)),
    Case("reports:indicator_download", pages_for(STATISTICS)),
    Case("reports:figures", pages_for(["city_admin"])),
    Case("api:report-statistics", staff_only(403, **dict.fromkeys(STATISTICS, 200))),
    Case("api:report-indicators", staff_only(403, **dict.fromkeys(STATISTICS, 200))),
]

# Everyone lists and revokes their own API tokens (an unknown token: 404).
CASES += [
    Case("api:auth-token-list", staff_only()),
    Case(
        "api:auth-token-detail",
        staff_only(404),
        method="delete",
        kwargs=lambda tree, objs: {"token_key": "nosuchtk"},
    ),
]

# An address under the API that names no endpoint: the API's JSON 404 for everyone, also
# for a POST (no CSRF page).
CASES += [
    Case("api:not-found", statuses(404), kwargs=lambda tree, objs: {"rest": "regions/1.5/"}),
    Case(
        "api:not-found",
        statuses(404),
        method="post",
        kwargs=lambda tree, objs: {"rest": "applications/1/actions/NOPE/"},
        label="post",
    ),
]

# Everyone changes their own password (staff: the form; anonymous: the login page).
CASES += [Case("accounts:password_change", {**statuses(200), ANON: 302})]

# Residents' self-service: no login, the same for everyone (nothing is scoped to a user).
CASES += [
    *[
        Case(f"residents:{name}", statuses(200))
        for name in ("hub", "progress", "payments", "objection", "standards", "self_check")
    ],
    Case("api:public-progress", statuses(400), method="post", label="nothing sent"),
    Case("api:public-payments", statuses(400), method="post", label="nothing sent"),
    Case("api:public-standards", statuses(404), label="no district"),
    Case("api:public-self-check", statuses(400), method="post", label="nothing sent"),
]

# --- the three officers' own pages and API (三员分立) -----------------------------------------

SECURITY_READERS = ["security_admin", "auditor", "auditor_district"]


def _event(key: str):
    return lambda tree, objs: {"pk": objs[key].pk}


CASES += [
    Case("accounts:security_events", pages_for(SECURITY_READERS)),
    Case("accounts:security_policy", pages_for(SECURITY_READERS)),
    Case(
        "accounts:lockout_clear",
        statuses(403, anonymous=302, security_admin=302),
        method="post",
        kwargs=_event("lockout"),
    ),
    Case("api:security-event-list", staff_only(403, **dict.fromkeys(SECURITY_READERS, 200))),
    Case(
        "api:security-event-detail",
        staff_only(403, security_admin=200, auditor=200, auditor_district=404),
        kwargs=_event("wanzhou_login"),
        label="a login in 万州区",
    ),
    Case(
        "api:security-event-detail",
        staff_only(403, **dict.fromkeys(SECURITY_READERS, 200)),
        kwargs=_event("yuzhong_login"),
        label="a login in 渝中区",
    ),
    Case(
        "api:security-event-detail",
        staff_only(403, **dict.fromkeys(SECURITY_READERS, 404)),
        kwargs=_event("yuzhong_event"),
        label="not a security event",
    ),
]

# --- API operations the pages above do not reach ------------------------------------------------

CASES += [
    Case(
        "api:household-list",
        case_api(403, clerk=400, township_reviewer=400, clerk_other=400),
        method="post",
        label="register, nothing sent",
    ),
    Case(
        "api:household-detail",
        case_api(403, clerk=400, township_reviewer=400, clerk_other=404),
        method="put",
        kwargs=_yz,
        label="渝中 household, nothing sent",
    ),
    Case(
        "api:household-detail",
        case_api(403, clerk=400, township_reviewer=400, clerk_other=404),
        method="patch",
        kwargs=_yz,
        label="渝中 household, nothing sent",
    ),
    Case(
        "api:application-list",
        case_api(403, clerk=400, township_reviewer=400, clerk_other=400),
        method="post",
        label="intake, nothing sent",
    ),
    Case(
        "api:referral-list",
        case_api(403, clerk=400, township_reviewer=400, clerk_other=400),
        method="post",
        label="referral, nothing sent",
    ),
    Case(
        "api:payroll-list",
        staff_only(403, finance=400),
        method="post",
        label="nothing sent",
    ),
]

# --- the Django admin ---------------------------------------------------------------------------

# What each actor may do in the admin, model by model: v(iew), a(dd), c(hange), d(elete).
# Whoever has no letter anywhere does not enter the admin: a 302 to its login page (which
# answers a logged-in member of staff with 403).
_BEAT = ("periodictask", "crontabschedule", "intervalschedule", "clockedschedule", "solarschedule")
ADMIN_RIGHTS: dict[str, dict[str, str]] = {
    # Deactivated, never deleted; the officers' accounts are read-only (set up on the server).
    "accounts.user": {"account_admin": "vac"},
    "knox.authtoken": {"account_admin": "vd"},  # listed and revoked, never made or read
    "regions.region": {"account_admin": "v", "city_admin": "vacd"},
    "accounts.staffrelative": {"city_admin": "vacd"},
    "core.calendarday": {"city_admin": "vacd"},
    "eligibility.policyvalue": {"city_admin": "vac"},  # superseded by a later row, not deleted
    "eligibility.temporaryrate": {"city_admin": "vac"},
    **{f"django_celery_beat.{model}": {"city_admin": "vacd"} for model in _BEAT},
    "core.auditevent": {"auditor": "v", "auditor_district": "v"},
    "axes.accessattempt": {"security_admin": "v"},
    "axes.accesslog": {"security_admin": "v"},
    "axes.accessfailurelog": {"security_admin": "v"},
}
ADMIN_ENTRANTS = sorted({actor for rights in ADMIN_RIGHTS.values() for actor in rights})
# The object each model's pages are visited with (a key of the module's objects).
ADMIN_OBJECTS = {
    "accounts.user": "clerk_user",
    "knox.authtoken": "clerk_token",
    "regions.region": "village",
    "accounts.staffrelative": "clerk_relative",
    "core.calendarday": "calendar_day",
    "eligibility.policyvalue": "policy_value",
    "eligibility.temporaryrate": "temporary_rate",
    **{f"django_celery_beat.{model}": model for model in _BEAT},
    "core.auditevent": "yuzhong_event",
    "axes.accessattempt": "lockout",
    "axes.accesslog": "access_log",
    "axes.accessfailurelog": "access_failure",
}
# An account's changes are security events, read by the security administrator and the auditor
# on their pages: the account administrator's admin has no history page for them.
NO_ADMIN_HISTORY = {"accounts.user"}
# Models whose admin shows past versions (django-simple-history).
HISTORY_MODELS = [
    "regions.region",
    "accounts.staffrelative",
    "core.calendarday",
    "eligibility.policyvalue",
    "eligibility.temporaryrate",
]


def admin_page(needs: str, rights: dict[str, str] | None = None, **overrides) -> dict[str, int]:
    """An admin page: 200 for an entrant holding one of the letters in ``needs``, 403 for the
    other entrants, 302 for everyone else."""
    result = statuses(302)
    for actor in ADMIN_ENTRANTS:
        held = (rights or {}).get(actor, "")
        result[actor] = 200 if set(needs) & set(held) else 403
    result.update(overrides)
    return result


def _object_id(key):
    return lambda tree, objs: {"object_id": str(objs[key].pk)}


def _admin_cases(label: str) -> list[Case]:
    app, model = label.split(".")
    rights, key, prefix = ADMIN_RIGHTS[label], ADMIN_OBJECTS[label], f"admin:{app}_{model}"
    cases = [
        Case(f"{prefix}_changelist", admin_page("vc", rights)),
        Case(f"{prefix}_add", admin_page("a", rights)),
        Case(f"{prefix}_change", admin_page("vc", rights), kwargs=_object_id(key)),
        Case(f"{prefix}_delete", admin_page("d", rights), kwargs=_object_id(key)),
        Case(
            f"{prefix}_history",
            admin_page("" if label in NO_ADMIN_HISTORY else "vc", rights),
            kwargs=_object_id(key),
        ),
        Case(  # the old address of the change page: a redirect to it, for the admin's users
            f"admin/{app}/{model}/<path:object_id>/",
            statuses(302),
            path=lambda tree, objs: f"/admin/{app}/{model}/{objs[key].pk}/",
        ),
    ]
    if label in HISTORY_MODELS:
        version = lambda tree, objs: [objs[key].pk, objs[key].history.first().history_id]  # noqa: E731
        cases += [
            Case(f"{prefix}_simple_history", admin_page("vc", rights), args=version),
            Case(  # reverting to a past version is a change, not a view
                f"{prefix}_simple_history",
                admin_page("c", rights),
                method="post",
                args=version,
                label="revert",
            ),
        ]
    return cases


ACCOUNT_ADMIN_ONLY = {"account_admin": "vac"}
CASES += [case for label in ADMIN_RIGHTS for case in _admin_cases(label)]
CASES += [
    Case(
        "admin:accounts_user_change",
        admin_page("vc", ACCOUNT_ADMIN_ONLY),
        kwargs=_object_id("auditor_user"),
        label="an officer's account: read-only",
    ),
    Case(
        "admin:auth_user_password_change",
        admin_page("c", ACCOUNT_ADMIN_ONLY),
        kwargs=lambda tree, objs: {"id": objs["clerk_user"].pk},
        label="a clerk's password",
    ),
    Case(
        "admin:auth_user_password_change",
        admin_page("", ACCOUNT_ADMIN_ONLY),
        kwargs=lambda tree, objs: {"id": objs["auditor_user"].pk},
        label="an officer's password: set on the server",
    ),
    Case(
        "admin:core_auditevent_change",
        admin_page("v", ADMIN_RIGHTS["core.auditevent"], auditor_district=302),
        kwargs=_object_id("wanzhou_event"),
        label="an event in 万州区: not in a 渝中 auditor's log",
    ),
    Case("admin:index", admin_page("vacd", dict.fromkeys(ADMIN_ENTRANTS, "v"))),
    Case("admin:login", statuses(403, anonymous=302)),
    Case("admin:logout", statuses(302), method="post"),
    Case("admin:password_change", admin_page("v", dict.fromkeys(ADMIN_ENTRANTS, "v"))),
    Case("admin:password_change_done", admin_page("v", dict.fromkeys(ADMIN_ENTRANTS, "v"))),
    Case("admin:jsi18n", admin_page("v", dict.fromkeys(ADMIN_ENTRANTS, "v"))),
    Case(  # choosing a jurisdiction on an account: whoever reads the regions
        "admin:autocomplete",
        admin_page("v", {"account_admin": "v", "city_admin": "v"}),
        data=lambda actor: {
            "app_label": "accounts",
            "model_name": "user",
            "field_name": "jurisdiction",
        },
    ),
    Case(  # regions have no page of their own outside the admin
        "admin:view_on_site",
        {**statuses(302), **dict.fromkeys(ADMIN_ENTRANTS, 404)},
        kwargs=lambda tree, objs: {
            "content_type_id": objs["region_type"].pk,
            "object_id": tree.village.pk,
        },
    ),
    Case(
        "admin/(?P<url>.*)$",
        {**statuses(302), **dict.fromkeys(ADMIN_ENTRANTS, 404)},
        path=lambda tree, objs: "/admin/no-such-page/",
    ),
]


def _app_index_cases() -> list[Case]:
    """Each app's admin index: 200 for whoever has a model in it, 404 for the other
    entrants (the app is not there for them)."""
    cases = []
    for app in sorted({label.split(".")[0] for label in ADMIN_RIGHTS}):
        holders = {
            actor
            for label, rights in ADMIN_RIGHTS.items()
            if label.startswith(app + ".")
            for actor in rights
        }
        expected = {**statuses(302), **dict.fromkeys(ADMIN_ENTRANTS, 404)}
        expected.update(dict.fromkeys(holders, 200))
        cases.append(
            Case("admin:app_list", expected, kwargs=lambda tree, objs, app=app: {"app_label": app})
        )
    return cases


CASES += _app_index_cases()

# --- every route has a decision -----------------------------------------------------------------


def _routes(resolver=None, namespace="", prefix="") -> set[str]:
    """Every URL pattern: its name with namespace, or, unnamed, its whole pattern."""
    routes = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            routes |= _routes(pattern, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.add(namespace + pattern.name if pattern.name else prefix + str(pattern.pattern))
    return routes


def _api_operations() -> set[tuple[str, str]]:
    """(URL name, method) of every operation in the OpenAPI schema."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = set()
    for path, item in schema["paths"].items():
        for method in item:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            for sample in ("1", "a"):  # a value each path parameter's pattern accepts
                try:
                    match = resolve(re.sub(r"\{[^}]+\}", sample, path))
                except Resolver404:
                    continue
                operations.add((match.view_name, method))
                break
            else:
                raise AssertionError(f"{path} does not resolve")
    return operations


def test_every_route_has_a_decision():
    decided = {case.name for case in CASES}
    missing = sorted(_routes() - decided)
    assert not missing, f"URL patterns without an access decision: {missing}"
    unknown = sorted(decided - _routes())
    assert not unknown, f"decisions for routes that do not exist: {unknown}"


def test_every_api_operation_has_a_decision():
    operations = _api_operations()
    assert len(operations) > 40  # the schema was read
    decided = {(case.name, case.method) for case in CASES}
    missing = sorted(operations - decided)
    assert not missing, f"API operations without an access decision: {missing}"


def test_every_registered_admin_model_has_a_decision():
    from django.contrib import admin

    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_RIGHTS) == set(ADMIN_OBJECTS)


def test_every_decision_names_every_actor():
    for case in CASES:
        assert set(case.expected) == set(ACTORS), case.name


# --- 三员分立, read off the matrix (test_access checks every row against the application) -------

AUDITORS = ["auditor", "auditor_district"]
# Writes that change no account and no case data: one's own session, language and API tokens;
# the logged reveal of a household's full numbers (a POST because it is logged); asking for a
# register export (a read, written to a file); the eligibility calculator; residents' lookups.
NOT_A_CHANGE = {
    "accounts:logout",
    "admin:logout",
    "set_language",
    "api:token",
    "api:auth-token-detail",
    "beneficiaries:reveal",
    "api:export-list",
    "api:eligibility-assess",
    "api:public-progress",
    "api:public-payments",
    "api:public-self-check",
    "api:not-found",  # names no endpoint: a 404 for everyone
}
# Routes over case data (households, applications, reviews, entitlements, payments, reports).
CASE_DATA = (
    "beneficiaries:",
    "applications:",
    "recertification:",
    "payments:",
    "eligibility:",
    "reports:",
    "api:household",
    "api:application",
    "api:referral",
    "api:entitlement",
    "api:review",
    "api:payroll",
    "api:export",
    "api:report",
)
AUDIT_LOG = ("reports:audit_log", "api:audit-event", "admin:core_auditevent")
SECURITY_EVENTS = ("accounts:security", "accounts:lockout", "api:security-event")


def test_the_auditors_change_nothing():
    """Every write in the matrix refuses both auditors, but those that change nothing."""
    writes = [c for c in CASES if c.method != "get" and c.name not in NOT_A_CHANGE]
    assert len(writes) > 50
    allowed = {
        f"{c.method} {c.name} {c.label}": {a: c.expected[a] for a in AUDITORS}
        for c in writes
        if any(c.expected[a] not in (403, 405) for a in AUDITORS)
    }
    assert allowed == {}


def test_the_account_and_security_administrators_read_no_case_data():
    rows = [c for c in CASES if c.name.startswith(CASE_DATA)]
    assert len(rows) > 100
    for case in rows:
        for actor in ("account_admin", "security_admin"):
            assert case.expected[actor] == 403, (actor, case.method, case.name, case.label)


def test_the_audit_log_is_the_auditors_alone_and_security_events_not_the_account_admin_s():
    for case in CASES:
        if case.name.startswith(AUDIT_LOG):
            readers = {a for a in ACTORS if case.expected[a] not in (302, 403)}
            assert readers <= set(AUDITORS), (case.name, case.label, readers)
            assert case.expected["account_admin"] == 403, case.name
            assert case.expected["city_admin"] == 403, case.name
        if case.name.startswith(SECURITY_EVENTS):
            assert case.expected["account_admin"] == 403, case.name


def test_the_account_administrator_administers_accounts_only():
    mine = {
        label: rights["account_admin"]
        for label, rights in ADMIN_RIGHTS.items()
        if "account_admin" in rights
    }
    assert mine == {"accounts.user": "vac", "knox.authtoken": "vd", "regions.region": "v"}


# --- the requests -------------------------------------------------------------------------------


@dataclass
class World:
    tree: Tree
    objs: dict
    sessions: dict[str, str]
    media: object


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The module's data, made once in a transaction rolled back after the last row."""
    media = tmp_path_factory.mktemp("access-media")
    hasher = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(PASSWORD_HASHERS=hasher, MEDIA_ROOT=media):
                tree = make_tree()
                cast = {
                    name: UserFactory(username=name, role=role, jurisdiction=getattr(tree, place))
                    for name, (role, place) in CAST_ROLES.items()
                }
                objs = _objects(tree, cast)
                sessions = {}
                for name, user in cast.items():
                    client = StaffClient()  # the second factor passed, for roles that need it
                    client.force_login(user)
                    sessions[name] = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield World(tree, objs, sessions, media)
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


def _request(world: World, case: Case, actor: str, url: str):
    client = Client()
    client.cookies = SimpleCookie()
    if actor != ANON:
        client.cookies[django_settings.SESSION_COOKIE_NAME] = world.sessions[actor]
    data = case.data(actor)
    if case.method in ("put", "patch"):
        return getattr(client, case.method)(url, data, content_type="application/json")
    return getattr(client, case.method)(url, data)


@pytest.mark.parametrize(
    "case", CASES, ids=[f"{c.method} {c.name} {c.label}".strip() for c in CASES]
)
def test_access(case, world, db, settings):
    settings.MEDIA_ROOT = world.media
    url = case.url(world.tree, world.objs)
    failures = []
    for actor in ACTORS:
        response = _request(world, case, actor, url)
        if response.status_code != case.expected[actor]:
            failures.append(f"{actor}: {response.status_code} != {case.expected[actor]}")
    assert not failures, f"{case.method.upper()} {url}: " + "; ".join(failures)


def _objects(tree, cast) -> dict:
    """One object of each kind the routes take, in 渝中区 unless named otherwise."""
    objs = {
        "wanzhou_event": AuditEvent.objects.create(
            action=AuditEvent.Action.UPDATE,
            region_code=tree.wanzhou_village.code,
            object_type="regions.region",
            object_id=str(tree.wanzhou_village.pk),
        ),
        "yuzhong_event": AuditEvent.objects.create(
            action=AuditEvent.Action.UPDATE,
            region_code=tree.village.code,
            object_type="regions.region",
            object_id=str(tree.village.pk),
        ),
        "wanzhou_login": AuditEvent.objects.create(
            action=AuditEvent.Action.LOGIN,
            actor=cast["clerk_other"],
            region_code=tree.wanzhou_township.code,
            object_type="accounts.user",
            object_id=str(cast["clerk_other"].pk),
        ),
        "yuzhong_login": AuditEvent.objects.create(
            action=AuditEvent.Action.LOGIN_FAILED,
            region_code=tree.jiefangbei.code,
            object_type="accounts.user",
            object_id=str(cast["clerk"].pk),
        ),
        "yuzhong_household": (yz := make_household(cast["clerk"], tree.village)),
        "yuzhong_referral": application_intake(
            actor=cast["clerk"],
            household=yz,
            programmes=[],
            referrals=["medical"],
            channel="window",
            materials_received=set(),
        ).referrals[0],
        "yuzhong_lead": lead_report(
            actor=cast["village_worker"],
            village=tree.village,
            person_name="某",
            location="某处",
            situation="某事",
            urgency="normal",
        ),
        "yuzhong_application": application_intake(
            actor=cast["clerk"],
            household=yz,
            programmes=["dibao"],
            referrals=[],
            channel="window",
            materials_received=set(),
        ).applications[0],
        "shared_import": SharedDataImport.objects.create(
            source="bank",
            original_name="bank.csv",
            uploaded_by=cast["city_admin"],
            status="loaded",
        ),
        "yuzhong_run": VerificationRun.objects.create(
            region_code=tree.yuzhong.code, requested_by=cast["district_approver"]
        ),
        "yuzhong_batch": ImportBatch.objects.create(
            file="imports/access.csv",
            original_name="access.csv",
            uploaded_by=cast["district_approver"],
            region_code=tree.yuzhong.code,
            status=ImportBatch.Status.INVALID,
        ),
        "wanzhou_household": make_household(
            cast["clerk_other"],
            tree.wanzhou_village,
            members=[member_data(id_number=make_id(area="500101"))],
        ),
    }
    objs["yuzhong_entitlement"] = Entitlement.objects.create(
        household=objs["yuzhong_household"],
        programme="dibao",
        monthly_amount=Decimal("500.00"),
        klass="C",
        start_month=dt.date(2026, 1, 1),
        next_review=dt.date(2026, 12, 1),
        source="x",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    objs["yuzhong_review"] = Review.objects.create(
        entitlement=objs["yuzhong_entitlement"],
        township=tree.jiefangbei,
        kind="periodic",
        opened_at=timezone.now(),
        due=dt.date(2026, 12, 1),
    )
    objs["clerk_relative"] = StaffRelative.objects.create(
        staff=cast["clerk"], name="某", id_number=make_id(area="500103"), relation="parent"
    )
    objs["yuzhong_scan"] = Scan.objects.create(
        application=objs["yuzhong_application"],
        material="id_card",
        file=ContentFile(b"\x89PNG scan", name="access.png"),
        original_name="access.png",
        size=10,
        uploaded_by=cast["clerk"],
    )
    objs.update(_payment_objects(cast, tree, objs))
    objs["auditor_export"] = _done_export(cast, tree)
    objs.update(_admin_objects(cast, tree))
    return objs


def _admin_objects(cast, tree) -> dict:
    """An object of every model in the admin."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.contrib.contenttypes.models import ContentType
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )
    from knox.models import AuthToken

    from core.models import CalendarDay
    from eligibility.models import PolicyValue, TemporaryRate
    from regions.models import Region

    where = {"ip_address": "203.0.113.9", "user_agent": "test", "http_accept": "*/*"}
    interval = IntervalSchedule.objects.create(every=60, period="seconds")
    policy_value = PolicyValue.objects.order_by("pk").first()
    temporary_rate = TemporaryRate.objects.order_by("pk").first()
    for seeded in (policy_value, temporary_rate):  # seeded by a migration, without history
        seeded.save()
    return {
        "clerk_user": cast["clerk"],
        "auditor_user": cast["auditor"],
        "clerk_token": AuthToken.objects.create(user=cast["clerk"])[0],
        "village": tree.village,
        "region_type": ContentType.objects.get_for_model(Region),
        "calendar_day": CalendarDay.objects.create(date=dt.date(2031, 1, 1), kind="holiday"),
        "policy_value": policy_value,
        "temporary_rate": temporary_rate,
        "periodictask": PeriodicTask.objects.create(
            name="access", task="core.tasks.heartbeat", interval=interval
        ),
        "intervalschedule": interval,
        "crontabschedule": CrontabSchedule.objects.create(minute="0", hour="2"),
        "clockedschedule": ClockedSchedule.objects.create(clocked_time=timezone.now()),
        "solarschedule": SolarSchedule.objects.create(
            event="sunrise", latitude=Decimal("29.56"), longitude=Decimal("106.55")
        ),
        "lockout": AccessAttempt.objects.create(
            username="clerk",
            path_info="/login/",
            get_data="",
            post_data="",
            failures_since_start=5,
            **where,
        ),
        "access_log": AccessLog.objects.create(username="clerk", path_info="/login/", **where),
        "access_failure": AccessFailureLog.objects.create(
            username="clerk", path_info="/login/", **where
        ),
    }


def _payment_objects(cast, tree, objs) -> dict:
    """A draft payroll of 渝中区 with one line, a bank file, an overpayment and a check."""
    from django.core.files.storage import default_storage

    from payments.models import BankFile, Overpayment, PaymentCheck, Payroll, PayrollLine

    payroll = Payroll.objects.create(
        district=tree.yuzhong,
        programme="dibao",
        month=dt.date(2027, 1, 1),
        status="draft",
        generated_by=cast["finance"],
        line_count=1,
        total_amount=Decimal("500.00"),
    )
    household = objs["yuzhong_household"]
    line = PayrollLine.objects.create(
        payroll=payroll,
        reference="R202701-access",
        entitlement=objs["yuzhong_entitlement"],
        household=household,
        month=dt.date(2027, 1, 1),
        kind="regular",
        amount=Decimal("500.00"),
    )
    path = default_storage.save("bankfiles/access.csv", ContentFile(b"\xef\xbb\xbf"))
    return {
        "yuzhong_payroll": payroll,
        "yuzhong_line": line,
        "yuzhong_bank_file": BankFile.objects.create(
            payroll=payroll,
            format="csv",
            path=path,
            sha256="0" * 64,
            line_count=1,
            total_amount=Decimal("500.00"),
            created_by=cast["finance"],
        ),
        "yuzhong_overpayment": Overpayment.objects.create(
            entitlement=objs["yuzhong_entitlement"],
            household=household,
            township=tree.jiefangbei,
            month=dt.date(2027, 1, 1),
            paid=Decimal("500.00"),
            due=Decimal("400.00"),
            amount=Decimal("100.00"),
            found_in=payroll,
        ),
        "yuzhong_check": PaymentCheck.objects.create(line=line, township=tree.jiefangbei),
    }


def _done_export(cast, tree):
    from django.core.files.storage import default_storage

    from reports.models import Export

    return Export.objects.create(
        requested_by=cast["auditor"],
        register="entitlements",
        format="csv",
        region=tree.yuzhong,
        status="done",
        rows=0,
        progress=100,
        path=default_storage.save("exports/access.csv", ContentFile(b"\xef\xbb\xbf")),
        finished_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
