"""Residents' self-service (issue 16): progress and payment lookups (match, mismatch, unknown,
rate limits shared across processes, logging without the ID tail), objection follow-up, the
published standards, the self-check against the eligibility engine, and no personal data in
any public answer."""

import datetime as dt
import multiprocessing
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services as applications
from applications.models import Material
from beneficiaries.models import Entitlement, Programme
from core.models import AuditEvent
from core.services import calendar_seed_from_package
from eligibility import rules
from eligibility.models import PolicyValue
from eligibility.selectors import policy_figure, policy_for
from notices.models import Objection
from payments import services as payments
from residents import selfcheck

from .factories import make_household, make_id, member_data

HEAD_ID = make_id("19700101", seq=51)
TAIL = HEAD_ID[-6:]
JAN = dt.date(2027, 1, 1)


@pytest.fixture
def family(cast, tree):
    """A household whose head is 赵大明 (ID ending TAIL), a 低保 application missing the proof
    of income, and its January 2027 payment approved."""
    calendar_seed_from_package()
    home = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("赵大明", id_number=HEAD_ID),
            member_data("钱小红", "spouse", id_number=make_id("19720101", seq=52)),
        ],
    )
    (case,) = applications.application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received={"id_card", "hukou_book", "authorisation", "pledge"},
    ).applications
    Entitlement.objects.create(
        household=home,
        programme="dibao",
        monthly_amount=Decimal("620.00"),
        klass="B",
        start_month=JAN,
        next_review=dt.date(2027, 7, 1),
        source=case.number,
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    payroll = payments.payroll_request(
        actor=cast["finance"], district=tree.yuzhong, programme="dibao", month=JAN
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    payments.payroll_approve(
        actor=cast["district_approver"], payroll=payroll, override_reason="测试"
    )
    tree.jiefangbei.office_phone = "023-63850120"
    tree.jiefangbei.save(update_fields=["office_phone"])
    return {"household": home, "case": case}


def _progress(client, number, tail):
    return client.post(
        "/api/v1/public/progress/",
        {"receipt_number": number, "id_tail": tail},
        content_type="application/json",
    )


def _payments(client, number, tail):
    return client.post(
        "/api/v1/public/payments/",
        {"household_number": number, "id_tail": tail},
        content_type="application/json",
    )


def test_a_receipt_and_the_right_id_tail_show_the_steps_and_what_is_missing(client, family):
    response = _progress(client, family["case"].number, TAIL.lower())
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "needs_materials"
    assert [step["done"] for step in body["steps"]] == [True, False, False, False, False]
    assert body["missing_materials"] == [str(Material.INCOME_PROOF.label)]
    assert body["office"] == {"name": "解放碑街道", "phone": "023-63850120"}
    assert set(body) >= {"status", "status_label", "steps", "decision_due", "missing_materials"}


def test_a_wrong_tail_answers_exactly_like_an_unknown_receipt(client, family):
    wrong = _progress(client, family["case"].number, "000000")
    unknown = _progress(client, "500103001-2026-99999", TAIL)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content
    wrong = _payments(client, family["household"].number, "000000")
    unknown = _payments(client, "50010399999999", TAIL)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.content == unknown.content


def test_every_lookup_is_logged_without_the_id_tail(client, family):
    _progress(client, family["case"].number, TAIL)
    _progress(client, family["case"].number, "000000")
    events = AuditEvent.objects.filter(action="view", actor__isnull=True)
    assert events.count() == 2
    assert all(family["case"].number in e.reason for e in events)
    assert all(TAIL not in e.reason and "000000" not in e.reason for e in events)


def test_the_payments_of_the_last_year_with_their_state(client, family):
    response = _payments(client, family["household"].number, TAIL)
    assert response.status_code == 200
    (january,) = response.json()["months"]
    assert january["month"] == "2027-01" and january["programme"] == "dibao"
    assert january["amount"] == "620.00" and january["status"] == "approved"


def test_too_many_lookups_of_one_number_are_refused(client, family, settings):
    settings.PUBLIC_LOOKUPS_PER_NUMBER_HOUR = 3
    codes = [_progress(client, family["case"].number, "000000").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    # The right tail does not get past the limit either.
    assert _progress(client, family["case"].number, TAIL).status_code == 429


def test_too_many_lookups_from_one_address_are_refused(client, family, settings):
    settings.PUBLIC_LOOKUPS_PER_ADDRESS_HOUR = 3
    codes = [_payments(client, f"5001030000{n:04d}", "000000").status_code for n in range(3)] + [
        _progress(client, family["case"].number, TAIL).status_code
    ]
    assert codes == [404, 404, 404, 429]


def test_failures_from_elsewhere_do_not_lock_a_family_out(client, family, settings):
    """Only failed lookups count against a number, and those of one address against that
    address: someone trying receipt numbers does not block the family's own lookup."""
    settings.PUBLIC_LOOKUPS_PER_NUMBER_HOUR = 3
    number = family["case"].number
    for _ in range(5):
        client.post(
            "/api/v1/public/progress/",
            {"receipt_number": number, "id_tail": "000000"},
            content_type="application/json",
            REMOTE_ADDR="198.51.100.9",
        )
    assert _progress(client, number, TAIL).status_code == 200


def test_the_address_is_taken_from_the_trusted_proxy_only(client, family, settings):
    """Behind one proxy, two residents are two addresses; a client cannot choose its own by
    writing X-Forwarded-For (the proxy appends the address it saw)."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.PUBLIC_LOOKUPS_PER_ADDRESS_HOUR = 2
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    def ask(forwarded):
        return client.post(
            "/api/v1/public/progress/",
            {"receipt_number": "500103001-2026-99999", "id_tail": "000000"},
            content_type="application/json",
            HTTP_X_FORWARDED_FOR=forwarded,
            **proxy,
        ).status_code

    assert [ask("203.0.113.5"), ask("203.0.113.5"), ask("203.0.113.5")] == [404, 404, 429]
    assert ask("203.0.113.6") == 404  # another resident behind the same proxy
    assert ask("1.2.3.4, 203.0.113.5") == 429  # a forged first hop changes nothing


def _lookups_in_another_process(number: str, times: int) -> None:
    """Another worker counting attempts at one receipt number (through the cache only: this
    process leaves the test's database connection alone)."""
    from residents import services

    for _ in range(times):
        services.failed(kind="progress", key=number, address="192.0.2.7")


def test_the_limit_is_shared_by_processes(client, family, settings, tmp_path):
    """Two processes (as two gunicorn workers) count the same attempts: the cache is shared
    (Redis in production; a file-based cache here stands for it)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.PUBLIC_LOOKUP_FAILURES_PER_NUMBER_HOUR = 3
    worker = multiprocessing.get_context("fork").Process(
        target=_lookups_in_another_process, args=(family["case"].number, 3)
    )
    worker.start()
    worker.join(60)
    assert worker.exitcode == 0
    assert _progress(client, family["case"].number, TAIL).status_code == 429


def test_an_objection_is_followed_by_its_reference_and_shows_only_its_state(client, cast, tree):
    from .test_review import new_case, to_notice

    calendar_seed_from_package()
    case = new_case(cast, tree)
    to_notice(cast, case)
    notice = case.notices.get()
    filed = client.post(
        f"/gongshi/notices/{notice.pk}/objection/",
        {"text": "他家有车", "name": "举报人甲", "contact": "13900001111"},
        follow=True,
    )
    objection = Objection.objects.get()
    assert re.fullmatch(r"YY[2-9A-HJ-NP-Z]{8}", objection.reference)
    assert objection.reference in filed.content.decode()
    page = client.get("/chaxun/objection/", {"reference": objection.reference.lower()})
    text = page.content.decode()
    assert "已收到：乡镇（街道）正在核查" in text
    assert "他家有车" not in text and "举报人甲" not in text and "13900001111" not in text
    Objection.objects.filter(pk=objection.pk).update(status="reinvestigating")
    again = client.get("/chaxun/objection/", {"reference": objection.reference}).content.decode()
    assert "该案件正在重新调查" in again
    unknown = client.get("/chaxun/objection/", {"reference": "YY22222222"}).content.decode()
    assert "没有这个编号的异议" in unknown


def test_the_standards_in_force_and_their_history(client, tree, cast):
    PolicyValue.objects.create(
        kind="dibao_standard",
        residence="urban",
        district_code="500103",
        value=Decimal("900.00"),
        effective_from=dt.date(2099, 1, 1),
        source="渝民〔2098〕1号",
        created_by=cast["city_admin"],
    )
    body = client.get("/api/v1/public/standards/", {"district": tree.yuzhong.code}).json()
    assert body["district"] == tree.yuzhong.code
    urban = [
        s
        for s in body["standards"]
        if s["component"] == "dibao_standard" and s["residence"] == "urban"
    ]
    current = [s for s in urban if s["current"]]
    assert len(current) == 1
    today = timezone.localdate()
    assert Decimal(current[0]["amount"]) == policy_figure(
        "dibao_standard", today, "500103", "urban"
    )
    assert urban[0]["amount"] == "900.00" and not urban[0]["current"]  # announced, not in force
    assert {s["programme"] for s in body["standards"]} == {"dibao", "tekun", "temporary"}
    assert client.get("/api/v1/public/standards/", {"district": "500103001000"}).status_code == 404
    page = client.get("/chaxun/standards/", {"district": tree.yuzhong.code})
    assert page.status_code == 200 and "900.00" in page.content.decode()


ANSWERS = {
    "residence": "urban",
    "district": "500103000000",
    "household_size": 3,
    "wage": "900",
    "pension": "300",
    "deposits": "5000",
    "medical_costs_12m": "6000",
}


def test_the_self_check_agrees_with_the_engine_and_writes_nothing(client, tree):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/v1/public/self-check/", ANSWERS, content_type="application/json"
        )
    assert response.status_code == 200
    writes = [q["sql"] for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)]
    assert writes == []
    body = response.json()
    dibao = next(r for r in body["results"] if r["programme"] == "dibao")
    answers = selfcheck.answers_from(
        {
            **ANSWERS,
            "household_size": 3,
            "wage": Decimal("900"),
            "pension": Decimal("300"),
            "deposits": Decimal("5000"),
            "medical_costs_12m": Decimal("6000"),
        }
    )
    case = selfcheck.case_of(answers, "dibao")
    policy, _sources = policy_for(as_of=case.as_of, residence="urban", district_code="500103")
    expected = rules.assess(case, policy)
    assert dibao["likely_eligible"] == expected.eligible
    assert dibao["estimated_monthly_amount"] == (
        f"{expected.monthly_amount:.2f}" if expected.eligible else None
    )
    # The family as described: 1,200 yuan for three, below the standard.
    standard = policy_figure("dibao_standard", case.as_of, "500103", "urban")
    assert expected.eligible == (Decimal(1200) / 3 < standard)
    assert expected.eligible, "the fixture family should qualify"
    assert body["materials"] and body["window"]["name"]
    refused = client.post(
        "/api/v1/public/self-check/", {**ANSWERS, "vehicle": True}, content_type="application/json"
    ).json()
    assert not next(r for r in refused["results"] if r["programme"] == "dibao")["likely_eligible"]
    page = client.post("/chaxun/self-check/", ANSWERS).content.decode()
    assert str(Programme.DIBAO.label) in page and dibao["estimated_monthly_amount"] in page


def test_no_public_answer_holds_a_name_id_number_address_or_phone(client, family, tree):
    home, case = family["household"], family["case"]
    answers = [
        _progress(client, case.number, TAIL),
        _payments(client, home.number, TAIL),
        client.get("/api/v1/public/standards/", {"district": tree.yuzhong.code}),
        client.post("/api/v1/public/self-check/", ANSWERS, content_type="application/json"),
        client.post("/chaxun/progress/", {"receipt_number": case.number, "id_tail": TAIL}),
        client.post("/chaxun/payments/", {"household_number": home.number, "id_tail": TAIL}),
        client.get("/chaxun/"),
        client.get("/chaxun/standards/", {"district": tree.yuzhong.code}),
        client.post("/chaxun/self-check/", ANSWERS),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers)
    everything = "".join(a.content.decode() for a in answers)
    for member in home.members.all():
        assert member.name not in everything and member.id_number not in everything
    assert home.address not in everything and home.phone not in everything
    assert home.bank_account_number not in everything
    assert not re.search(r"\b\d{15}(\d{2}[\dX])?\b", everything)  # no ID-shaped number
    assert not re.search(r"\b1[3-9]\d{9}\b", everything)  # no mobile number
