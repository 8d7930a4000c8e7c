"""``manage.py seed_scale``: a realistic city dataset that works before or after ``seed_demo``
(PostgreSQL only: it writes with generate_series)."""

import datetime as dt
import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.models import Application
from beneficiaries import idnumber
from beneficiaries.idnumber import mask_name
from beneficiaries.models import Entitlement, Household, Member
from chongqing_relief.demo import DEMO_PASSWORD, demo_seed
from core.months import add_months
from notices.models import Notice, Objection, StandingRow
from payments.models import Payroll, PayrollLine
from recertification.models import Review

pytestmark = pytest.mark.postgres

N = 3000


@pytest.fixture
def postgres(db, settings):
    if connection.vendor != "postgresql":
        pytest.skip("seed_scale writes with PostgreSQL's generate_series (CI runs it)")
    settings.DEBUG = True  # seed_demo refuses otherwise


def seed(households: int, **options) -> str:
    out = io.StringIO()
    call_command("seed_scale", households=households, stdout=out, **options)
    return out.getvalue()


def seeded_households():
    return Household.objects.exclude(address__startswith="演示路")


def test_seed_scale_after_the_demo_builds_a_city_in_every_state(postgres, client):
    from applications.deadlines import deadlines_recompute
    from eligibility.models import Assessment
    from eligibility.services import assessment_replay
    from recertification import nightly

    demo_seed()
    demo_ids = set(Household.objects.values_list("pk", flat=True))
    output = seed(N)
    today = timezone.localdate()
    assert "payroll lines" in output and "seed_scale: done" in output

    # The register: N households beside the demo's, valid ID numbers, numbers after the
    # district's counter.
    assert seeded_households().count() == N
    assert set(Household.objects.filter(pk__in=demo_ids).values_list("pk", flat=True)) == demo_ids
    for member in Member.objects.exclude(household__in=demo_ids).order_by("?")[:50]:
        number = idnumber.parse(member.id_number)
        assert (number.birth_date, number.sex) == (member.birth_date, member.sex)
    assert len(set(Household.objects.values_list("number", flat=True))) == N + len(demo_ids)

    # Entitlements spread within villages: every village has households with and without.
    by_village = (
        seeded_households()
        .values("region")
        .annotate(
            n=Count("id", distinct=True),
            entitled=Count("entitlements", filter=Q(entitlements__status="active"), distinct=True),
        )
    )
    assert len(by_village) > 20
    assert all(0 < v["entitled"] < v["n"] for v in by_village)
    live = Entitlement.objects.exclude(household__in=demo_ids).filter(status="active")
    assert live.count() == N // 2
    assert set(live.values_list("klass", flat=True)) == {"A", "B", "C"}
    assert Entitlement.objects.filter(status="terminated").exists()
    # Each came from its approved application.
    sources = set(live.values_list("source", flat=True))
    assert Application.objects.filter(number__in=sources, status="approved").count() == len(sources)

    # Applications of this year in every state, with what each state has.
    year = Application.objects.filter(received_at__gte=timezone.now() - dt.timedelta(days=366))
    assert set(year.values_list("status", flat=True)) == set(Application.Status.values)
    assert set(year.values_list("programme", flat=True)) == {"dibao", "temporary"}
    noticed = year.filter(status="noticed").exclude(household__in=demo_ids)
    assert noticed.exists() and all(a.assessment_id and a.proposed_amount for a in noticed)
    assert year.filter(status="approved", spot_check_draw__isnull=False, spot_checked=True).exists()
    assert year.filter(status="needs_materials", materials__received=False).exists()
    # Deadlines as the calendar counts them: the nightly recount moves none.
    assert deadlines_recompute()["case_deadlines"] == 0
    # Assessments are the means test's own: they replay to what they say.
    for assessment in Assessment.objects.order_by("?")[:25]:
        assert assessment_replay(assessment) == assessment.result

    # Notices up today, the name masked; objections open and dealt with.
    up = Notice.objects.filter(status="open", starts_on__lte=today, ends_on__gte=today)
    assert {"approval", "termination"} <= set(up.values_list("kind", flat=True))
    for notice in up.filter(kind="approval").select_related("application__household__head"):
        assert notice.masked_name == mask_name(notice.application.household.head.name)
    assert not Notice.objects.filter(status="open", ends_on__lt=today).exists()
    assert {"open", "resolved", "reinvestigating"} <= set(
        Objection.objects.values_list("status", flat=True)
    )
    assert Objection.objects.filter(status="open", notice__status="open").exists()

    # Reviews: the year's decided, the ones due open in every state.
    reviews = Counter(Review.objects.values_list("status", flat=True))
    assert set(reviews) == set(Review.Status.values)
    assert reviews["decided"] > reviews["open"] > 0
    assert set(Review.objects.values_list("outcome", flat=True)) >= {
        "continue",
        "adjust",
        "terminate",
    }

    # Twelve months of payrolls, one per district, programme and month, with their lines.
    months = [add_months(today.replace(day=1), -i) for i in range(12)]
    payrolls = Payroll.objects.filter(programme="dibao", month__in=months)
    districts = payrolls.values("district").distinct().count()
    assert districts >= 38 and payrolls.count() == 12 * districts
    assert set(payrolls.values_list("status", flat=True)) <= {"reconciled", "exported"}
    paid = PayrollLine.objects.filter(payroll__in=payrolls, kind="regular")
    assert set(paid.values_list("month", flat=True)) == set(months)
    last = months[1]
    payable = Entitlement.objects.filter(start_month__lte=last).filter(
        Q(end_month__isnull=True) | Q(end_month__gte=last)
    )
    assert paid.filter(month=last).count() == payable.exclude(household__in=demo_ids).count()
    for line in paid.select_related("entitlement").order_by("?")[:25]:
        assert line.entitlement.amount_for(line.month) == line.amount
    in_last = PayrollLine.objects.filter(payroll__in=payrolls.filter(month=last))
    assert sum(payrolls.filter(month=last).values_list("line_count", flat=True)) == (
        in_last.count()
    )
    assert sum(payrolls.filter(month=last).values_list("total_amount", flat=True)) == sum(
        in_last.values_list("amount", flat=True)
    )
    assert PayrollLine.objects.filter(kind="reissue", status="paid").exists()
    assert PayrollLine.objects.filter(kind="one_off").exists()

    # The public standing list (summary rows) holds every household receiving 低保.
    assert StandingRow.objects.count() == Entitlement.objects.filter(status="active").count()

    # The night after: nothing to open or close that the seed should have done.
    assert nightly.reviews_open_due(today)["opened"] == 0
    assert nightly.notices_close_expired(today)["cases_to_district"] == 0

    # The pages open on the seeded rows: a case in every state, a review in every state, a
    # payroll, a household, the public notices.
    client.force_login(User.objects.get(username="auditor"))
    pages = ["/", "/applications/", "/applications/reviews/", "/payments/", "/gongshi/"]
    pages += [f"/applications/{year.filter(status=s).first().pk}/" for s in Application.Status]
    pages += [
        f"/applications/reviews/{Review.objects.filter(status=s).first().pk}/" for s in reviews
    ]
    pages += [f"/payments/{payrolls.filter(month=last).first().pk}/"]
    pages += [f"/households/{seeded_households().first().pk}/"]
    for page in pages:
        assert client.get(page).status_code == 200, page
    client.logout()

    # The demo still works: its users log in, it runs again, and a second seed is refused.
    response = client.post(
        reverse("accounts:login"), {"username": "clerk", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    demo_seed()
    assert Household.objects.filter(address__startswith="演示路").count() == 7
    with pytest.raises(CommandError, match="already run"):
        seed(10)


def test_seed_demo_after_seed_scale_makes_its_families_and_their_payroll(postgres):
    seed(600)
    demo_seed()
    demo = Household.objects.filter(address__startswith="演示路")
    assert demo.count() == 7
    approved = Entitlement.objects.filter(household__in=demo)
    month = approved.values_list("start_month", flat=True).first()
    payroll = Payroll.objects.get(district__code="500103000000", programme="dibao", month=month)
    assert payroll.status == "approved"
    assert set(payroll.lines.values_list("household", flat=True)) >= set(
        approved.values_list("household", flat=True)
    )
    assert User.objects.filter(username="clerk", is_active=True).exists()


def test_an_entitled_share_of_zero_writes_the_register_only(postgres):
    seed(200, entitled_share=0)
    assert Household.objects.count() == 200 and Member.objects.count() == 500
    assert not Entitlement.objects.exists() and not Application.objects.exists()
    assert not Payroll.objects.exists()
