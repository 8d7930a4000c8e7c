"""Demo data: the region tree, the working-day calendar and one user per role in a
realistic place. Idempotent. Demo passwords and the demo second-factor secret live here and in
the README only."""

from base64 import b32decode
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.selectors import second_factor_device
from accounts.services import second_factor_install, user_ensure
from core.services import calendar_seed_from_package
from regions.models import Region
from regions.seed import CITY_CODE
from regions.services import regions_seed

DEMO_PASSWORD = "Chongqing-demo-2026"  # noqa: S105 (demo data only, shown in README)
# The authenticator secret (base32) of every demo user whose role needs a second factor:
# published in the README, so anyone can add it to an app or run `manage.py demo_otp <user>`.
DEMO_TOTP_SECRET = "CHONGQINGRELIEFDEMOTOTPSECRET234"  # noqa: S105 (demo data only, in README)
DEMO_TOTP_KEY = b32decode(DEMO_TOTP_SECRET).hex()  # as django-otp stores it

YUZHONG = "500103000000"  # 渝中区
WANZHOU = "500101000000"  # 万州区, "another district" for clerk_other


def totp_code_now(device) -> tuple[str, int] | None:
    """A code ``device`` accepts now, and for about how many seconds: the current one, or the
    next if the current one was taken (the device accepts one step ahead for slow clocks).
    None if both were taken. For demo users (``manage.py demo_otp``) and tests."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    now = time.time()
    totp.time = now
    ahead = max(0, device.last_t + 1 - totp.t())  # steps to skip: their codes were taken
    if ahead > device.tolerance:
        return None
    totp.time = now + ahead * device.step
    left = device.step - int(now - device.t0) % device.step + ahead * device.step
    return f"{totp.token():0{device.digits}d}", left


def _first_child(parent_code: str) -> Region:
    return Region.objects.filter(parent__code=parent_code).order_by("code").first()


@transaction.atomic
def demo_seed() -> list[tuple[str, str, str, bool]]:
    """Returns (username, role label, jurisdiction name, created) for each demo user."""
    regions_seed()
    calendar_seed_from_package()
    city = Region.objects.get(code=CITY_CODE)
    yuzhong = Region.objects.get(code=YUZHONG)
    township = _first_child(YUZHONG)
    village = _first_child(township.code)
    other_township = _first_child(WANZHOU)
    if not township.office_phone:  # printed on receipts; a made-up number
        township.office_phone = "023-63850120"
        township.save(update_fields=["office_phone"])
    cast = [
        ("clerk", Role.CLERK, township, "王窗口"),
        ("township_reviewer", Role.TOWNSHIP_REVIEWER, township, "李审核"),
        # A second reviewer: whoever records a review's visit does not decide it.
        ("township_reviewer2", Role.TOWNSHIP_REVIEWER, township, "孙审核"),
        ("district_approver", Role.DISTRICT_APPROVER, yuzhong, "张审批"),
        ("city_admin", Role.CITY_ADMIN, city, "陈管理"),
        ("auditor", Role.AUDITOR, city, "赵审计"),
        ("village_worker", Role.VILLAGE_WORKER, village, "刘救助"),
        ("clerk_other", Role.CLERK, other_township, "周窗口"),
        # Generates the monthly payrolls; the district approver approves them (four eyes).
        ("district_finance", Role.DISTRICT_FINANCE, yuzhong, "钱资金"),
        # 三员分立: accounts, security and audit are three people (the auditor is above).
        ("account_admin", Role.ACCOUNT_ADMIN, city, "吴账号"),
        ("security_admin", Role.SECURITY_ADMIN, city, "郑安全"),
    ]
    result = []
    for username, role, region, full_name in cast:
        user, created = user_ensure(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            jurisdiction=region,
            full_name=full_name,
        )
        if user.requires_second_factor and second_factor_device(user=user) is None:
            second_factor_install(
                user=user,
                key=DEMO_TOTP_KEY,
                actor=None,
                reason=_("Demo second factor with the published secret (demo data only)"),
            )
        result.append((user.username, user.get_role_display(), str(user.jurisdiction), created))
    demo_cases(village)
    demo_allocations(yuzhong)
    demo_payroll(yuzhong)
    return result


def demo_payroll(district: Region) -> None:
    """The first month's 低保 payroll of the demo families (approved this month, paid from
    next month), generated and approved, and the statistics return computed from it, so the
    dashboard and the return show figures (the funds officer goes on with the month after).
    Only once. The district's other households (``seed_scale``'s) are paid in it too."""
    from django.db.models import Min

    from accounts.models import User
    from beneficiaries.models import Entitlement
    from payments import services
    from payments.models import LIVE_PAYROLL, Payroll
    from reports.services import statistics_refresh

    month = Entitlement.objects.filter(
        programme="dibao",
        household__region__code__startswith=district.code[:6],
        approved_by__username="district_approver",
    ).aggregate(first=Min("start_month"))["first"]
    if (
        month is None
        or Payroll.objects.filter(
            district=district, programme="dibao", month=month, status__in=LIVE_PAYROLL
        ).exists()
    ):
        return
    payroll = services.payroll_request(
        actor=User.objects.get(username="district_finance"),
        district=district,
        programme="dibao",
        month=month,
    )
    payroll = services.payroll_generate(payroll_id=payroll.pk)
    services.payroll_approve(actor=User.objects.get(username="district_approver"), payroll=payroll)
    statistics_refresh(months=[month])


def demo_allocations(district: Region) -> None:
    """The year's 低保 and 临时救助 funds of the demo district, by source (made-up figures)."""
    from django.utils import timezone

    from accounts.models import User
    from payments.models import FundAllocation
    from payments.services import allocation_set

    if FundAllocation.objects.filter(district=district).exists():
        return
    finance = User.objects.get(username="district_finance")
    today = timezone.localdate()
    for year in {today.year, (today + timezone.timedelta(days=40)).year}:
        for programme, source, amount, note in [
            ("dibao", "central", "3000000.00", "渝财社〔演示〕1号"),
            ("dibao", "city", "1200000.00", "渝财社〔演示〕2号"),
            ("dibao", "district", "600000.00", "渝中财〔演示〕3号"),
            ("dibao", "lottery", "100000.00", "福彩公益金〔演示〕"),
            ("temporary", "district", "300000.00", "渝中财〔演示〕4号"),
        ]:
            allocation_set(
                actor=finance,
                year=year,
                district=district,
                programme=programme,
                source=source,
                amount=Decimal(amount),
                note=note,
            )


# Demo families (made-up names, valid made-up ID numbers): residence, members as
# (name, birth, sex digit, relation, extra), and where the family's 低保 case stands.
FAMILIES = [
    (
        "urban",
        [("张大山", "19580312", 1, "head", {"labour_capacity": "partial"})],
        "noticed",
    ),
    ("urban", [("李秀英", "19450607", 2, "head", {"labour_capacity": "none"})], "approved"),
    (
        "urban",
        [
            ("王建国", "19800415", 3, "head", {"employment": "unemployed"}),
            ("王小红", "20120901", 4, "child", {"schooling": "compulsory"}),
        ],
        "investigating",
    ),
    ("urban", [("刘芳", "19900120", 6, "head", {"employment": "unemployed"})], "missing"),
    ("urban", [("陈德明", "19520218", 7, "head", {"labour_capacity": "none"})], "approved"),
    (
        "urban",
        [
            ("黄桂兰", "19560709", 8, "head", {"labour_capacity": "partial"}),
            ("黄小军", "20140322", 9, "grandchild", {"schooling": "compulsory"}),
        ],
        "approved",
    ),
    ("urban", [("杨光荣", "19490901", 5, "head", {"labour_capacity": "none"})], "approved"),
]

# One-card (一卡通) accounts of the approved families; 杨光荣's has a mistyped digit, so his
# payment is held back for the township to correct (made-up numbers).
ACCOUNTS = {
    "李秀英": ("重庆农村商业银行", "6228480000001234566"),
    "陈德明": ("重庆农村商业银行", "6228480000007654320"),
    "黄桂兰": ("中国工商银行", "6222023800001122332"),
    "杨光荣": ("中国建设银行", "6217003810004455667"),
}


DAILY_LIVING = (
    "can_eat",
    "can_dress",
    "can_transfer",
    "can_toilet",
    "can_walk_indoors",
    "can_bathe",
)


def _act(case, actor, action: str, **data):
    from applications import workflow

    case.refresh_from_db()
    return workflow.transition(
        actor=actor, application=case, action=action, expected_version=case.version, **data
    )


def _id_number(birth: str, seq: int) -> str:
    from stdnum.cn import ric

    body = f"500103{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def demo_cases(village: Region) -> None:
    """A few families at different steps, so each role's queue and the public pages show
    something. Only once: not when the demo clerk has registered households in the demo
    village already (other households there, e.g. ``seed_scale``'s, do not count)."""
    from django.utils import timezone

    from accounts.models import User
    from applications import review, services, workflow
    from beneficiaries.models import Household
    from beneficiaries.services import household_create

    clerk = User.objects.get(username="clerk")
    if Household.objects.filter(region=village, created_by=clerk).exists():
        return
    reviewer = User.objects.get(username="township_reviewer")
    approver = User.objects.get(username="district_approver")
    worker = User.objects.get(username="village_worker")
    materials = {"id_card", "hukou_book", "income_proof", "authorisation", "pledge"}
    for index, (residence, people, stage) in enumerate(FAMILIES):
        members = [
            {
                "name": name,
                "id_number": _id_number(birth, index * 10 + sex),
                "relation": relation,
                "lives_with_household": True,
                "absence_reason": "",
                "hukou_local": True,
                "labour_capacity": "full",
                "disability_type": "",
                "disability_grade": None,
                "serious_illness": False,
                "schooling": "not_in_school",
                "employment": "",
                **dict.fromkeys(
                    (
                        "can_eat",
                        "can_dress",
                        "can_transfer",
                        "can_toilet",
                        "can_walk_indoors",
                        "can_bathe",
                    ),
                    True,
                ),
                **extra,
            }
            for name, birth, sex, relation, extra in people
        ]
        household = household_create(
            actor=clerk,
            region=village,
            fields={
                "address": f"演示路{index + 1}号",
                "residence_type": residence,
                "phone": "",
                "bank_name": ACCOUNTS.get(people[0][0], ("", ""))[0],
                "bank_account_name": people[0][0] if people[0][0] in ACCOUNTS else "",
                "bank_account_number": ACCOUNTS.get(people[0][0], ("", ""))[1],
                "poverty_registered": False,
                "marginal": False,
                "separately_registered": False,
                "separate_registration_reason": "",
            },
            members=members,
        )
        received = materials - ({"income_proof"} if stage == "missing" else set())
        (case,) = services.application_intake(
            actor=clerk,
            household=household,
            programmes=["dibao"],
            referrals=[],
            channel="window",
            materials_received=received,
        ).applications
        if stage == "missing":
            continue

        _act(case, clerk, "start_investigation")
        if stage == "investigating":
            continue
        review.home_visit_record(
            actor=clerk,
            application=case,
            kind="investigation",
            visited_on=timezone.localdate(),
            second_staff=worker,
            findings="演示:家中陈设简陋,无稳定收入",
        )
        review.investigation_assess(actor=clerk, application=case)
        _act(case, clerk, "complete_investigation")
        case.refresh_from_db()
        amount = workflow.assessed_amount(case)
        _act(case, reviewer, "post_notice", amount=amount, klass="A", opinion="演示:符合条件")
        if stage == "noticed":
            continue
        case.notices.update(
            starts_on=timezone.localdate() - timezone.timedelta(days=9),
            ends_on=timezone.localdate() - timezone.timedelta(days=2),
        )
        _act(case, reviewer, "end_notice")
        review.spot_check_draw(actor=approver)
        case.refresh_from_db()
        if case.spot_checked:
            review.home_visit_record(
                actor=approver,
                application=case,
                kind="spot_check",
                visited_on=timezone.localdate(),
                second_staff=clerk,
                findings="演示:抽查情况与调查一致",
            )
        _act(case, approver, "approve", reason="演示:符合低保条件")
    services.lead_report(
        actor=worker,
        village=village,
        person_name="赵某",
        location="演示路9号",
        situation="演示:独居老人摔伤,无人照料",
        urgency="urgent",
    )
