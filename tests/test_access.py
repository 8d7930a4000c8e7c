"""Every URL pattern, visited by every role and by an anonymous user, inside and outside the
jurisdiction where that applies. Adding a URL pattern without a row here fails
``test_every_url_pattern_is_covered``."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import StaffRelative
from applications.models import Scan
from applications.services import application_intake, lead_report
from beneficiaries.models import Entitlement, ImportBatch
from core.models import AuditEvent
from eligibility.models import SharedDataImport, VerificationRun
from recertification.models import Review

from .conftest import CAST_ROLES, Tree
from .factories import TEST_PASSWORD, make_household, make_id, member_data

ANON = "anonymous"
ACTORS = [ANON, *CAST_ROLES]
STAFF = list(CAST_ROLES)
# The district's funds officer sees payments only, never case data (least privilege).
CASE_STAFF = [actor for actor in STAFF if actor != "finance"]


def statuses(default: int, **overrides: int) -> dict[str, int]:
    return {actor: overrides.get(actor, default) for actor in ACTORS}


def staff_only(staff: int = 200, **overrides: int) -> dict[str, int]:
    """Anonymous API callers get 403 (session auth sends no challenge)."""
    return statuses(staff, anonymous=403, **overrides)


def pages_for(roles: list[str], *, other: int = 403) -> dict[str, int]:
    """A login-required page: anonymous → login redirect, listed roles 200, others ``other``."""
    result = statuses(other, anonymous=302)
    result.update(dict.fromkeys(roles, 200))
    return result


@dataclass
class Case:
    name: str  # URL name; several cases may share one (inside/outside jurisdiction)
    expected: dict[str, int]
    method: str = "get"
    kwargs: Callable[[Tree, dict], dict] = lambda tree, objs: {}
    data: Callable[[str], dict] = lambda actor: {}
    label: str = ""
    extra: dict = field(default_factory=dict)


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
    result["finance"] = 403  # the role is refused before the jurisdiction is looked at
    return result


CASES = [
    Case("accounts:login", statuses(302, anonymous=200)),
    Case("accounts:logout", statuses(302), method="post"),
    Case("workbench:home", pages_for(STAFF)),
    Case("reports:audit_log", pages_for(["auditor", "auditor_district", "city_admin"])),
    Case("admin:index", pages_for(["city_admin"], other=302)),
    Case("set_language", statuses(302), method="post", data=lambda actor: {"language": "en"}),
    Case("healthz", statuses(200)),
    Case("api-schema", staff_only()),
    Case("api-docs", staff_only()),
    Case("api:api-root", staff_only()),
    Case("api:me", staff_only()),
    Case(
        "api:token",
        statuses(200, anonymous=400),
        method="post",
        data=lambda actor: {"username": actor, "password": TEST_PASSWORD},
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
                ],
                200,
            ),
        ),
        kwargs=lambda tree, objs: {"pk": tree.village.pk},
        label="inside 渝中区",
    ),
    Case(
        "api:region-detail",
        staff_only(404, clerk_other=200, city_admin=200, auditor=200),
        kwargs=lambda tree, objs: {"pk": tree.wanzhou_village.pk},
        label="inside 万州区",
    ),
    Case(
        "api:audit-event-list",
        staff_only(403, auditor=200, auditor_district=200, city_admin=200),
    ),
    Case(
        "api:audit-event-detail",
        staff_only(403, auditor=200, auditor_district=404, city_admin=200),
        kwargs=_wanzhou_event,
        label="event in 万州区",
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
    Case("api:household-list", staff_only(finance=403)),
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
    Case("applications:relatives", pages_for([a for a in STAFF if "auditor" not in a])),
    Case(
        "applications:relative_remove",
        statuses(404, anonymous=302, auditor=403, auditor_district=403, clerk=302),
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
        statuses(404, anonymous=302, finance=403),
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
    Case(
        "api:application-act",
        {**staff_only(404), **dict.fromkeys(YUZHONG_READERS, 400), "finance": 403},
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
    Case("api:entitlement-list", staff_only(finance=403)),
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
    Case("api:review-list", staff_only(finance=403)),
    Case(
        "api:review-detail", scoped(YUZHONG_READERS, YUZHONG_READERS, api=True), kwargs=_yz_review
    ),
    Case(
        "api:review-decide",
        {
            **staff_only(404),
            **dict.fromkeys(YUZHONG_READERS, 403),
            "township_reviewer": 400,
            "district_approver": 400,  # the district may decide too (issue 13)
            "finance": 403,
        },
        method="post",
        kwargs=_yz_review,
        label="nothing sent",
    ),
    Case("api:application-list", staff_only(finance=403)),
    Case(
        "api:application-detail", scoped(YUZHONG_READERS, YUZHONG_READERS, api=True), kwargs=_yz_app
    ),
    Case("api:referral-list", staff_only(finance=403)),
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
# The township's payment queues: every staff role but the village worker.
QUEUE_READERS = [actor for actor in STAFF if actor != "village_worker"]


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

# Patterns covered as a group: the Django admin's own pages all sit behind admin:index's
# permission check (CityAdminSite.has_permission), tested above and in test_pages.py and
# test_hardening.py.
COVERED_BY_PREFIX = ("admin:",)


def _all_url_names(resolver=None, namespace="") -> set[str]:
    names = set()
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if inner.startswith(COVERED_BY_PREFIX):
                names.add(inner)
                continue
            names |= _all_url_names(pattern, inner)
        elif isinstance(pattern, URLPattern):
            assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
            names.add(namespace + pattern.name)
    return names


def test_every_url_pattern_is_covered():
    covered = {case.name for case in CASES}
    missing = {
        name
        for name in _all_url_names()
        if name not in covered and not name.startswith(COVERED_BY_PREFIX)
    }
    assert not missing, f"URL patterns without an access case: {sorted(missing)}"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.name} {c.label}".strip() for c in CASES])
def test_access(case, client, tree, cast):
    objs = {
        "wanzhou_event": AuditEvent.objects.create(
            action=AuditEvent.Action.UPDATE,
            region_code=tree.wanzhou_village.code,
            object_type="regions.region",
            object_id=str(tree.wanzhou_village.pk),
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
    url = reverse(case.name, kwargs=case.kwargs(tree, objs))
    failures = []
    for actor in ACTORS:
        client.logout()
        if actor != ANON:
            client.force_login(cast[actor])
        response = getattr(client, case.method)(url, case.data(actor))
        if response.status_code != case.expected[actor]:
            failures.append(f"{actor}: {response.status_code} != {case.expected[actor]}")
    assert not failures, f"{case.method.upper()} {url}: " + "; ".join(failures)


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
