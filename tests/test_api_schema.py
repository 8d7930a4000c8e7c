"""The OpenAPI schema tells the truth (issue 17): schemathesis sends every documented operation
requests made from the schema, as a few roles, and checks each answer against it (no server
error, a documented status, content type, body and headers, valid input accepted and invalid
input refused). Plain tests pin the list shapes the schema promises against what the views
return.

The app runs in-process (WSGI) inside the test's transaction, over a small world: a household
in the clerk's village and one in another district, an application, an entitlement under
review, an approved payroll and each exporter's finished export. Generated object ids are
mapped onto those objects or onto an id that does not exist, so detail pages answer 200 as
well as 404 and no answer depends on what other tests left in the database's sequences."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from decimal import Decimal

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.validation import validate_schema
from hypothesis import HealthCheck, settings
from knox.models import AuthToken

from applications import services as applications
from beneficiaries.models import Entitlement
from core.models import AuditEvent
from payments import services as payments
from recertification.services import review_open
from reports import services as reports

from .factories import make_household, make_id, member_data


def _openapi() -> dict:
    """The schema as served at /api/schema/ (the same generator as ``manage.py spectacular``),
    through JSON so that it holds plain values only."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


OPENAPI = _openapi()

# Who calls: the city-wide auditor (reads everything, exports, statistics), a township clerk
# (writes households, takes applications) and a district approver (decides, approves
# payrolls, exports), each with an API token.
ROLES = ["auditor", "clerk", "district_approver"]

# Rules of the domain that a schema cannot state. The API answers them with 400 and a
# ``code`` (core.exceptions.DomainError), so on these operations a request that fits the
# schema may still be refused with 400; on every other operation it may not.
DOMAIN_RULES = {
    "v1_households_create": "the village is in the caller's jurisdiction; ID check digits",
    "v1_households_update": "the same, and the members named are the household's",
    "v1_households_partial_update": "the same",
    "v1_applications_create": "some help is asked for; none of it is already open",
    "v1_referrals_create": "the same",
    "v1_applications_actions_create": "each step's own rules (a reason, an amount, the state)",
    "v1_reviews_decide_create": "each outcome's own rules (a reason, an amount)",
    "v1_eligibility_assess_create": "a policy for the date; hardship for 临时救助; ID digits",
    "v1_public_self_check_create": "the district exists",
    "v1_exports_create": "a register's own options; a purpose for full ID numbers",
    "v1_payrolls_create": "the region is a district",
    "v1_payrolls_approve_create": "a reason past the district's allocation",
    "v1_payrolls_bank_result_create": "the file's columns and rows",
    "v1_reports_statistics_retrieve": "the region is not a village",
    "v1_reports_indicators_retrieve": "the region is not a village",
}
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis'

# Credentials are the role's real token (sent by the test), never generated ones: the
# ``ignored_auth`` check then probes each operation without them and with wrong ones.
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"with-security-parameters": False},
        "operations": [
            {
                "include-operation-id": sorted(DOMAIN_RULES),
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": [*POSITIVE_STATUSES, "400"]}
                },
            },
            {
                # The coverage phase (every boundary of every field, not bounded by
                # max_examples) sends several hundred household bodies, nearly alike, per
                # role: minutes on two cores. The bounded fuzzing phase covers these three.
                "include-operation-id": [
                    "v1_households_create",
                    "v1_households_update",
                    "v1_households_partial_update",
                ],
                "phases": {"coverage": {"enabled": False}},
            },
        ],
    }
)

schema = schemathesis.openapi.from_dict(OPENAPI, config=CONFIG).exclude(
    # Rate limited (20 a minute per address): fuzzing it only measures the limiter, and the
    # exchange of a password for a token is covered by tests/test_pages.py and test_security.
    operation_id="v1_auth_token_create",
)
# Django's own WSGI handler: the whole middleware stack, as a server would run it.
schema.app = WSGIHandler()

# Objects the generated ids are mapped onto, per first path segment after /api/v1/; filled
# by the ``world`` fixture of the running test (generation happens inside the test).
KNOWN: dict[str, list] = {}
MISSING_ID = 10**9  # above every id a test database reaches


def _resource(path: str) -> str:
    parts = path.removeprefix("/api/v1/").split("/")
    return "auth/tokens" if parts[:2] == ["auth", "tokens"] else parts[0]


def _pick(known: list, value):
    """A deterministic choice among the known objects and a missing one, keyed on the value
    hypothesis drew (so shrinking and replay stay meaningful)."""
    choices = [*known, MISSING_ID]
    key = value if isinstance(value, int) else zlib.crc32(str(value).encode())
    return choices[abs(key) % len(choices)]


@schema.hook
def map_path_parameters(context, path_parameters):
    known = KNOWN.get(_resource(context.operation.path), [])
    for name, value in (path_parameters or {}).items():
        if name == "id" and isinstance(value, int) and not isinstance(value, bool):
            path_parameters[name] = _pick(known, value)
        elif name == "token_key" and isinstance(value, str):
            path_parameters[name] = _pick(known, value) if known else value
    return path_parameters


@schema.hook
def map_body(context, body):
    """A visit is taken for a household that exists now and then, not only for random ids."""
    if isinstance(body, dict) and isinstance(body.get("household"), int):
        body["household"] = _pick(KNOWN.get("households", []), body["household"])
    return body


@pytest.fixture
def in_test_transaction(settings):
    """Requests served inside the test's transaction: like the test client, the handler must
    not close the connection (and so roll the transaction back) after each request."""
    settings.ALLOWED_HOSTS = ["localhost"]  # what schemathesis' WSGI client calls itself
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


JAN = dt.date(2027, 1, 1)


@pytest.fixture
def world(cast, tree):
    home = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("王大", id_number=make_id(seq=701)),
            member_data("王小", relation="child", id_number=make_id("20150101", seq=702)),
        ],
    )
    away = make_household(
        cast["clerk_other"],
        tree.wanzhou_village,
        members=[member_data("李四", id_number=make_id(area="500101", seq=703))],
    )
    intake = applications.application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao"],
        referrals=["medical"],
        channel="window",
        materials_received={"id_card", "hukou_book", "authorisation", "pledge"},
    )
    entitlement = Entitlement.objects.create(
        household=home,
        programme="dibao",
        monthly_amount=Decimal("500.00"),
        klass="C",
        start_month=JAN,
        next_review=dt.date(2027, 12, 1),
        source=intake.applications[0].number,
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    review_open(entitlement, "收入增加", dt.date(2027, 3, 1))
    payments.allocation_set(
        actor=cast["finance"],
        year=2027,
        district=tree.yuzhong,
        programme="dibao",
        source="central",
        amount=Decimal("1000000.00"),
    )
    payroll = payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=JAN
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    payments.payroll_approve(actor=cast["district_approver"], payroll=payroll)
    exports = [
        reports.export_run(
            export_id=reports.export_request(
                actor=cast[role], register="entitlements", fmt="csv", region=tree.yuzhong
            ).pk
        ).pk
        for role in ("auditor", "district_approver")
    ]
    tokens = {role: AuthToken.objects.create(cast[role])[1] for role in ROLES}
    spare = {role: AuthToken.objects.create(cast[role])[0].token_key for role in ROLES}
    KNOWN.clear()
    KNOWN.update(
        {
            "households": [home.pk, away.pk],
            "applications": [a.pk for a in intake.applications],
            "referrals": [r.pk for r in intake.referrals],
            "entitlements": [entitlement.pk],
            "reviews": list(entitlement.reviews.values_list("pk", flat=True)),
            "payrolls": [payroll.pk],
            "exports": exports,
            "regions": [tree.village.pk, tree.wanzhou.pk],
            "audit-events": list(
                AuditEvent.objects.order_by("pk").values_list("pk", flat=True)[:3]
            ),
            "auth/tokens": [spare[role] for role in ROLES],  # not sorted: keys are random
        }
    )
    yield tokens
    KNOWN.clear()


@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_as_documented(case, role, world, in_test_transaction):
    case.call_and_validate(headers={"Authorization": f"Token {world[role]}"})


# --- The list shapes the schema promises are the ones the views return ----------------------


def test_the_schema_is_valid_openapi():
    validate_schema(OPENAPI)


def _documented_shape(method: str, path: str, status: str) -> str:
    """ "paginated", "list" or "object", from the schema of the JSON answer."""
    schema = OPENAPI["paths"][path][method]["responses"][status]["content"]["application/json"]
    schema = schema["schema"]
    if "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if schema.get("type") == "array":
        return "list"
    return "paginated" if {"count", "results"} <= set(schema.get("properties", {})) else "object"


def _shape(body) -> str:
    if isinstance(body, list):
        return "list"
    return "paginated" if {"count", "results"} <= set(body) else "object"


def _pages(method: str, path: str) -> bool:
    parameters = OPENAPI["paths"][path][method].get("parameters", [])
    return any(p["name"] == "page" for p in parameters)


@pytest.mark.parametrize(
    ("role", "path", "resource"),
    [
        ("auditor", "/api/v1/households/", None),
        ("auditor", "/api/v1/regions/", None),
        ("auditor", "/api/v1/audit-events/", None),
        ("auditor", "/api/v1/public/notices/", None),
        ("auditor", "/api/v1/households/{id}/payments/", "households"),
        ("auditor", "/api/v1/payrolls/{id}/lines/", "payrolls"),
        ("auditor", "/api/v1/applications/{id}/events/", "applications"),
        ("auditor", "/api/v1/entitlements/{id}/history/", "entitlements"),
        ("clerk", "/api/v1/auth/tokens/", None),
    ],
)
def test_a_list_is_paged_where_the_schema_says_so(client, world, role, path, resource):
    url = path.replace("{id}", str(KNOWN[resource][0])) if resource else path
    response = client.get(url, headers={"Authorization": f"Token {world[role]}"})
    assert response.status_code == 200, response.content
    documented = _documented_shape("get", path, "200")
    assert _shape(response.json()) == documented
    assert _pages("get", path) == (documented == "paginated")


def test_a_visit_answers_with_what_the_schema_says(client, world):
    """POST answers are never paged: the referrals made, or the applications and referrals."""
    auth = {"Authorization": f"Token {world['clerk']}"}
    household = KNOWN["households"][0]
    visit = {"household": household, "referrals": ["education"]}
    referrals = client.post(
        "/api/v1/referrals/", visit, content_type="application/json", headers=auth
    )
    assert referrals.status_code == 201, referrals.content
    assert _shape(referrals.json()) == _documented_shape("post", "/api/v1/referrals/", "201")
    visit = {"household": household, "programmes": ["temporary"], "referrals": ["housing"]}
    both = client.post(
        "/api/v1/applications/", visit, content_type="application/json", headers=auth
    )
    assert both.status_code == 201, both.content
    assert _documented_shape("post", "/api/v1/applications/", "201") == "object"
    assert set(both.json()) == {"applications", "referrals"}
    assert not _pages("post", "/api/v1/referrals/") and not _pages("post", "/api/v1/applications/")


def test_a_patch_must_send_the_version_it_read(client, world):
    """The schema marks ``version`` required on a PATCH, as the API refuses one without it."""
    patched = OPENAPI["components"]["schemas"]["PatchedHouseholdUpdateRequest"]
    assert patched["required"] == ["version"]
    url = f"/api/v1/households/{KNOWN['households'][0]}/"
    auth = {"Authorization": f"Token {world['clerk']}"}
    response = client.patch(url, {"address": "新址"}, content_type="application/json", headers=auth)
    assert response.status_code == 400 and "version" in response.json()["errors"]
