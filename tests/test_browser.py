"""In a real browser: Debian's chromium driven by Playwright against the live server."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import make_tree, second_factor_for, totp_code
from .factories import TEST_PASSWORD, UserFactory

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback: the flush after each test would remove the policy data that the
    # data migrations seed; this restores it.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_clerk_logs_in_and_sees_chinese_home(page, live_server):
    tree = make_tree()
    UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei, full_name="王窗口")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()

    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")

    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="窗口受理工作台")).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text("王窗口 · 窗口受理员 · 解放碑街道")
    expect(page.get_by_role("navigation", name="主导航")).not_to_contain_text("审计日志")
    expect(page.get_by_role("heading", name="今日受理申请")).to_be_visible()

    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()


def test_tablet_width_has_no_horizontal_scroll(page, live_server):
    tree = make_tree()
    UserFactory(username="auditor", role="auditor", jurisdiction=tree.city)
    page.set_viewport_size({"width": 768, "height": 1024})
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill("auditor")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="审计日志").first.click()
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 768


def _fill_member(page, index, name, id_number, relation):
    page.locator(f"#id_members-{index}-name").fill(name)
    page.locator(f"#id_members-{index}-id_number").fill(id_number)
    page.locator(f"#id_members-{index}-relation").select_option(relation)


def test_clerk_registers_three_member_household_and_finds_it_by_id(page, live_server):
    from .factories import make_id

    tree = make_tree()
    UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei, full_name="王窗口")
    head, spouse, child = (
        make_id("19700101", seq=11),
        make_id("19720202", seq=22),
        make_id("20100303", seq=33),
    )
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.get_by_role("link", name="户籍登记").click()
    expect(page.get_by_text("您的辖区还没有登记家庭户")).to_be_visible()
    page.get_by_role("link", name="登记家庭户").click()
    page.get_by_label("村(社区)").select_option(label="解放碑街道 · 大井巷社区")
    page.get_by_label("住址").fill("民族路1号")
    page.get_by_label("城乡类别").select_option("urban")
    _fill_member(page, 0, "张大山", head, "head")
    page.get_by_role("button", name="添加家庭成员").click()
    _fill_member(page, 1, "李秀英", spouse, "spouse")
    page.get_by_role("button", name="添加家庭成员").click()
    # A wrong check digit first: the form keeps everything and says what is wrong.
    wrong = child[:17] + ("1" if child[17] != "1" else "2")
    _fill_member(page, 2, "张小明", wrong, "child")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert").first).to_contain_text("未保存任何内容")
    expect(page.get_by_text("校验位错误")).to_be_visible()
    expect(page.locator("#id_members-1-name")).to_have_value("李秀英")
    page.locator("#id_members-2-id_number").fill(child)
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("status")).to_contain_text("已登记")
    expect(page.locator("#sensitive").get_by_role("cell", name="张小明")).to_be_visible()
    expect(page.locator("#sensitive").get_by_text("500103********0118")).to_be_visible()

    page.get_by_role("link", name="户籍登记").click()
    page.get_by_label("身份证号").fill(spouse)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_text("共找到 1 户")).to_be_visible()
    expect(page.get_by_role("cell", name="张大山")).to_be_visible()


def test_clerk_accepts_dibao_with_a_missing_document_and_prints(page, live_server, tmp_path):
    from core.services import calendar_seed_from_package

    from .factories import make_household, member_data

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(
        username="clerk", role="clerk", jurisdiction=tree.jiefangbei, full_name="王窗口"
    )
    household = make_household(clerk, tree.village, members=[member_data("张大山")])
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    page.goto(f"{live_server.url}/households/{household.pk}/")
    page.get_by_role("link", name="受理申请").click()
    page.get_by_label("最低生活保障(低保)").check()
    for material in ("家庭成员身份证", "户口簿", "经济状况核对授权书", "如实申报承诺书"):
        page.get_by_label(material).check()  # the proof of income is missing
    page.get_by_role("button", name="受理").click()
    expect(page.locator(".status strong")).to_contain_text("补齐材料")  # 待补齐材料 status

    page.get_by_role("link", name="打印一次性告知书").click()
    expect(page.get_by_role("heading", name="社会救助申请材料一次性告知书")).to_be_visible()
    expect(page.get_by_role("listitem")).to_have_text(["收入证明"])
    page.get_by_role("link", name="返回").click()

    page.get_by_label("收入证明").check()
    page.get_by_role("button", name="保存材料").click()
    expect(page.locator(".status strong")).to_have_text("已受理")

    page.get_by_role("link", name="打印受理回执").click()
    expect(page.get_by_role("heading", name="社会救助申请受理回执")).to_be_visible()
    expect(page.get_by_text("500103001-")).to_be_visible()
    page.screenshot(path=str(tmp_path / "receipt.png"), full_page=True)
    assert (tmp_path / "receipt.png").stat().st_size > 10_000

    page.goto(f"{live_server.url}/")
    expect(page.locator(".queue").filter(has_text="今日受理申请").locator(".count")).to_have_text(
        "1"
    )
    page.screenshot(path=str(tmp_path / "queue.png"), full_page=True)


def _login(page, live_server, username):
    """The password, then, for a role that needs it, the code of the user's authenticator."""
    from accounts.models import User

    user = User.objects.get(username=username)
    device = second_factor_for(user) if user.requires_second_factor else None
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    if device is not None:
        expect(page).to_have_url(re.compile(r"/login/verify/"))
        page.locator("input[name=otp]").fill(totp_code(device))
        page.locator("form.second-factor button[type=submit]").click()
        expect(page).not_to_have_url(re.compile(r"/login/verify/"))
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_an_approver_enrols_an_authenticator_app_at_the_first_login(page, live_server):
    from base64 import b32decode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    tree = make_tree()
    approver = UserFactory(username="approver", role="district_approver", jurisdiction=tree.yuzhong)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill("approver")
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(re.compile(r"/account/two-factor/\?next=(/|%2F)$"))
    expect(page.get_by_role("navigation", name="主导航")).to_have_count(0)
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("code.secret").inner_text().replace(" ", "")
    app = TOTPDevice(user=approver, key=b32decode(secret).hex())  # the phone's copy
    page.locator("input[name=otp]").fill(totp_code(app))
    page.locator("form.second-factor button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    assert TOTPDevice.objects.get(user=approver).confirmed


def test_a_case_travels_from_acceptance_to_approval_and_the_public_list(
    page, live_server, tmp_path
):
    import datetime as dt

    from django.utils import timezone

    from core.services import calendar_seed_from_package
    from notices.models import Notice

    from .factories import make_household, member_data

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(
        username="clerk", role="clerk", jurisdiction=tree.jiefangbei, full_name="王窗口"
    )
    UserFactory(
        username="reviewer",
        role="township_reviewer",
        jurisdiction=tree.jiefangbei,
        full_name="李审核",
    )
    UserFactory(
        username="approver",
        role="district_approver",
        jurisdiction=tree.yuzhong,
        full_name="张审批",
    )
    household = make_household(clerk, tree.village, members=[member_data("刘大海")])

    # The window: accept with every material.
    _login(page, live_server, "clerk")
    page.goto(f"{live_server.url}/households/{household.pk}/")
    page.get_by_role("link", name="受理申请").click()
    page.get_by_label("最低生活保障(低保)").check()
    for material in (
        "家庭成员身份证",
        "户口簿",
        "收入证明",
        "经济状况核对授权书",
        "如实申报承诺书",
    ):
        page.get_by_label(material).check()
    page.get_by_role("button", name="受理").click()
    expect(page.locator(".status strong")).to_have_text("已受理")
    case_url = page.url

    # The investigation: the visit with a colleague, the assessment, then on to the township.
    page.get_by_role("button", name="开始调查").click()
    expect(page.get_by_role("heading", name="当前环节:入户调查")).to_be_visible()
    page.get_by_role("button", name="调查完毕,转乡镇审核").click()
    expect(page.get_by_role("alert")).to_contain_text("请先记录入户调查")
    page.get_by_label("另一名工作人员").select_option(label="李审核 · 乡镇审核员")
    page.get_by_label("入户情况").fill("独居,无劳动能力,家中无贵重物品")
    page.get_by_role("button", name="保存入户记录").click()
    page.get_by_role("button", name="进行核算").click()
    expect(page.get_by_text("核算结果已记录")).to_be_visible()
    page.get_by_role("button", name="调查完毕,转乡镇审核").click()
    expect(page.get_by_role("heading", name="当前环节:乡镇审核")).to_be_visible()

    # The township reviewer proposes and posts the notice.
    _login(page, live_server, "reviewer")
    expect(page.locator(".queue").filter(has_text="待乡镇办理的案件")).to_contain_text("500103001-")
    page.goto(case_url)
    expect(page.get_by_label("金额(元)")).not_to_have_value("")
    page.get_by_label("类别").select_option("A")
    page.get_by_label("审核意见").fill("经调查符合低保条件")
    page.get_by_role("button", name="发布公示").click()
    expect(page.get_by_role("heading", name="当前环节:公示")).to_be_visible()
    page.goto(f"{live_server.url}/gongshi/{tree.village.code}/")
    expect(page.get_by_role("cell", name="刘*海")).to_be_visible()
    page.screenshot(path=str(tmp_path / "notice.png"), full_page=True)

    # Seven days later (moved in the database), the notice is over.
    past = timezone.localdate() - dt.timedelta(days=8)
    Notice.objects.update(starts_on=past, ends_on=past + dt.timedelta(days=6))
    page.goto(case_url)
    page.get_by_role("button", name="公示期满,报区县审批").click()
    expect(page.get_by_role("heading", name="当前环节:区县审批")).to_be_visible()

    # The district draws the spot-check sample, checks at home if drawn, and approves.
    _login(page, live_server, "approver")
    page.get_by_role("button", name=re.compile("抽取入户抽查样本")).click()
    expect(page.get_by_text("抽样完成")).to_be_visible()
    page.goto(case_url)
    if page.get_by_text("已抽中:须入户抽查").is_visible():
        page.get_by_label("另一名工作人员").select_option(label="王窗口 · 窗口受理员")
        page.get_by_label("入户情况").fill("与调查情况一致")
        page.get_by_role("button", name="保存入户记录").click()
    page.get_by_role("button", name="批准", exact=True).click()
    expect(page.get_by_role("heading", name="当前环节:已批准")).to_be_visible()
    expect(page.get_by_text("保障待遇")).to_be_visible()
    page.screenshot(path=str(tmp_path / "approved.png"), full_page=True)

    # The public standing list shows the household, masked.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/gongshi/{tree.village.code}/")
    standing = page.locator("section").filter(has_text="在保低保家庭")
    expect(standing.get_by_role("cell", name="刘*海")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("刘大海")
    page.screenshot(path=str(tmp_path / "standing.png"), full_page=True)


def test_a_reviewer_lowers_an_amount_and_changes_the_class(page, live_server, tmp_path):
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from beneficiaries.models import Entitlement
    from core.services import calendar_seed_from_package
    from recertification import nightly

    from .factories import make_household, member_data

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei)
    UserFactory(
        username="reviewer",
        role="township_reviewer",
        jurisdiction=tree.jiefangbei,
        full_name="李审核",
    )
    household = make_household(clerk, tree.village, members=[member_data("陈小芳")])
    entitlement = Entitlement.objects.create(
        household=household,
        programme="dibao",
        monthly_amount=Decimal("500.00"),
        klass="C",
        start_month=dt.date(2026, 1, 1),
        next_review=timezone.localdate() + dt.timedelta(days=3),
        source="500103001-2026-00009",
        approved_at=timezone.now(),
        approved_by=clerk,
    )
    nightly.reviews_open_due()

    # The window visits and reassesses; the township reviewer decides (not the visitor).
    _login(page, live_server, "clerk")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="定期复核").click()
    page.get_by_role("link", name=re.compile(r"\d{4}-\d{2}-\d{2}")).first.click()
    expect(page.get_by_role("heading", name=re.compile("定期复核"))).to_be_visible()
    review_url = page.url
    page.get_by_label("入户或申报情况").fill("已在超市打工,月收入约1800元")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已记录。")).to_be_visible()
    page.get_by_role("button", name="按现行标准重新核算").click()
    expect(page.get_by_text("核算结果已记录")).to_be_visible()

    _login(page, live_server, "reviewer")
    expect(page.locator(".queue").filter(has_text="定期复核")).to_contain_text("50010300000001")
    page.goto(review_url)
    page.get_by_label("调整金额或类别").check()
    page.get_by_label("新月保障金额(元,调整时填写)").fill("320.00")
    page.get_by_label("新类别(调整时选择)").select_option("B")
    page.get_by_label("理由(暂停或停保时必填)").fill("有稳定务工收入")
    page.get_by_role("button", name="作出决定").click()
    expect(page.get_by_text("复核已作出决定")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("320.00")
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

    entitlement.refresh_from_db()
    assert entitlement.monthly_amount == Decimal("320.00") and entitlement.klass == "B"
    page.get_by_role("link", name="家庭页面").click()
    expect(page.locator("#entitlements")).to_contain_text("320.00")
    expect(page.locator("#entitlements")).to_contain_text("有稳定务工收入")


def test_the_district_decides_a_refusal_the_township_proposed(page, live_server, tmp_path):
    """Issue 13: for 低保 the township proposes a refusal; the district confirms it, and the
    letter is the district's."""
    from applications import review, services, workflow
    from core.services import calendar_seed_from_package

    from .factories import make_household, member_data
    from .test_review import ALL

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei)
    UserFactory(username="reviewer", role="township_reviewer", jurisdiction=tree.jiefangbei)
    UserFactory(username="approver", role="district_approver", jurisdiction=tree.yuzhong)
    village_worker = UserFactory(
        username="worker", role="village_worker", jurisdiction=tree.village
    )
    household = make_household(clerk, tree.village, members=[member_data("吕有车")])
    (case,) = services.application_intake(
        actor=clerk,
        household=household,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received=ALL,
    ).applications
    workflow.transition(
        actor=clerk, application=case, action="start_investigation", expected_version=1
    )
    from django.utils import timezone

    review.home_visit_record(
        actor=clerk,
        application=case,
        kind="investigation",
        visited_on=timezone.localdate(),
        second_staff=village_worker,
        findings="院内停放小汽车一辆",
    )
    review.investigation_assess(actor=clerk, application=case)

    _login(page, live_server, "reviewer")
    page.goto(f"{live_server.url}/applications/{case.pk}/")
    expect(page.get_by_text("书面通知不予批准")).to_have_count(0)  # not the township's to refuse
    page.get_by_text("报区县拟不予批准").first.click()
    page.get_by_label("理由(供区县审查,并印在通知书上)").fill("家庭拥有小汽车一辆")
    page.get_by_role("button", name="报区县拟不予批准").click()
    expect(page.get_by_role("heading", name="当前环节:区县审批")).to_be_visible()

    _login(page, live_server, "approver")
    page.goto(f"{live_server.url}/applications/{case.pk}/")
    expect(page.get_by_text("乡镇拟不予批准: 家庭拥有小汽车一辆")).to_be_visible()
    expect(page.get_by_text("不参与抽样")).to_be_visible()
    expect(page.get_by_role("button", name="批准", exact=True)).to_have_count(0)
    page.get_by_role("button", name="确认不予批准").click()
    expect(page.get_by_role("heading", name="当前环节:不予批准")).to_be_visible()
    page.get_by_role("link", name="打印决定书").click()
    expect(page.locator("main")).to_contain_text("家庭拥有小汽车一辆")
    expect(page.locator("main")).to_contain_text("渝中区民政局(盖章)")
    page.screenshot(path=str(tmp_path / "refusal-letter.png"), full_page=True)


def test_a_second_reviewer_decides_a_review_the_first_visited(page, live_server, tmp_path):
    """Issue 13: whoever recorded the visit does not decide; the page says who does."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from beneficiaries.models import Entitlement
    from core.services import calendar_seed_from_package
    from recertification import nightly

    from .factories import make_household, member_data

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei)
    UserFactory(username="reviewer", role="township_reviewer", jurisdiction=tree.jiefangbei)
    UserFactory(username="reviewer2", role="township_reviewer", jurisdiction=tree.jiefangbei)
    household = make_household(clerk, tree.village, members=[member_data("金秀")])
    Entitlement.objects.create(
        household=household,
        programme="dibao",
        monthly_amount=Decimal("500.00"),
        klass="C",
        start_month=dt.date(2026, 1, 1),
        next_review=timezone.localdate() + dt.timedelta(days=3),
        source="500103001-2026-00011",
        approved_at=timezone.now(),
        approved_by=clerk,
    )
    nightly.reviews_open_due()

    _login(page, live_server, "reviewer")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="定期复核").click()
    page.get_by_role("link", name=re.compile(r"\d{4}-\d{2}-\d{2}")).first.click()
    review_url = page.url
    page.get_by_label("入户或申报情况").fill("情况未变")
    page.get_by_role("button", name="保存", exact=True).click()
    page.get_by_role("button", name="按现行标准重新核算").click()
    expect(page.get_by_text("核算结果已记录")).to_be_visible()
    expect(page.get_by_text("由另一名乡镇审核人员或区县审批人员决定")).to_be_visible()
    expect(page.get_by_role("button", name="作出决定")).to_have_count(0)

    _login(page, live_server, "reviewer2")
    page.goto(review_url)
    page.get_by_label("维持不变").check()
    page.get_by_role("button", name="作出决定").click()
    expect(page.get_by_text("复核已作出决定")).to_be_visible()
    page.screenshot(path=str(tmp_path / "second-reviewer.png"), full_page=True)


def test_a_month_is_paid_end_to_end(page, live_server, tmp_path, monkeypatch):
    """The funds officer generates and watches progress, the approver approves, the file goes
    to the bank, its result comes back with one failure, and the failure reaches the
    township's queue."""
    import csv
    import datetime as dt
    import io
    from decimal import Decimal

    from django.utils import timezone

    from beneficiaries.models import Entitlement
    from core.services import calendar_seed_from_package
    from payments import services, tasks
    from payments.models import Payroll

    from .factories import make_household, make_id, member_data

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(
        username="clerk", role="clerk", jurisdiction=tree.jiefangbei, full_name="王窗口"
    )
    finance = UserFactory(
        username="finance",
        role="district_finance",
        jurisdiction=tree.yuzhong,
        full_name="钱资金",
    )
    UserFactory(
        username="approver",
        role="district_approver",
        jurisdiction=tree.yuzhong,
        full_name="张审批",
    )
    for seq, (name, amount) in enumerate([("刘一", "500"), ("陈二", "650"), ("张三", "720")]):
        household = make_household(
            clerk, tree.village, members=[member_data(name, id_number=make_id(seq=700 + seq))]
        )
        Entitlement.objects.create(
            household=household,
            programme="dibao",
            monthly_amount=Decimal(amount),
            klass="C",
            start_month=dt.date(2027, 1, 1),
            next_review=dt.date(2027, 12, 1),
            source=f"500103001-2026-0070{seq}",
            approved_at=timezone.now(),
            approved_by=clerk,
        )
    services.allocation_set(
        actor=finance,
        year=2027,
        district=tree.yuzhong,
        programme="dibao",
        source="central",
        amount=Decimal("100000.00"),
    )
    # The worker is this test: the request leaves the payroll generating, as a busy
    # worker would, and the page follows it until the test generates it.
    queued = []
    monkeypatch.setattr(tasks.payroll_generate, "delay", queued.append)

    _login(page, live_server, "finance")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="发放清册").click()
    page.get_by_label("项目").first.select_option("dibao")
    page.get_by_label("发放月份").fill("2027-01")
    page.get_by_role("button", name="生成", exact=True).click()
    expect(page.get_by_text("清册正在生成,本页显示进度。")).to_be_visible()
    expect(page.locator("progress")).to_be_visible()
    page.screenshot(path=str(tmp_path / "generating.png"), full_page=True)
    (payroll_id,) = queued
    services.payroll_generate(payroll_id=payroll_id)
    expect(page.get_by_text("等待区县审批人员批准。")).to_be_visible(timeout=15000)
    expect(page.locator(".summary-grid")).to_contain_text("1870.00")
    page.screenshot(path=str(tmp_path / "draft.png"), full_page=True)
    payroll_url = page.url

    _login(page, live_server, "approver")
    panel = page.locator(".queue").filter(has_text="待批准的发放清册")
    expect(panel).to_contain_text("1")
    panel.get_by_role("link", name=re.compile("2027-01")).click()
    page.get_by_label("我已核对3笔明细和合计金额1870.00元。").check()
    page.get_by_role("button", name="批准清册").click()
    expect(page.get_by_text("已批准:清册已锁定")).to_be_visible()

    _login(page, live_server, "finance")
    page.goto(payroll_url)
    page.get_by_label("格式").select_option("csv")
    page.get_by_label("确认将本清册报送银行").check()
    page.get_by_role("button", name="生成银行代发文件").click()
    expect(page.get_by_text("银行代发文件已生成(3笔,共1870.00元)")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    with open(download.value.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert rows[-1][:2] == ["合计", "3"] and rows[-1][7] == "1870.00"

    # The bank's answer: 陈二's account was closed.
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*rows[0], "状态", "失败原因"])
    failed_household = Entitlement.objects.get(monthly_amount=Decimal("650")).household
    for row in rows[1:-1]:
        failed = row[2] == failed_household.number
        writer.writerow([*row, *(("失败", "账户已销户") if failed else ("成功", ""))])
    result = tmp_path / "回盘.csv"
    result.write_bytes(out.getvalue().encode("utf-8-sig"))
    page.get_by_label("回盘文件").set_input_files(str(result))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.get_by_text("银行回盘已导入:成功2笔,失败1笔。")).to_be_visible()
    expect(page.locator("dl.status")).to_contain_text("已对账")
    page.screenshot(path=str(tmp_path / "reconciled.png"), full_page=True)
    assert Payroll.objects.get(pk=payroll_id).status == "reconciled"

    _login(page, live_server, "clerk")
    panel = page.locator(".queue").filter(has_text="发放失败和暂缓发放")
    expect(panel).to_contain_text("1")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="发放失败").click()
    expect(page.locator("table")).to_contain_text("账户已销户")
    expect(page.locator("table")).to_contain_text("陈二")
    page.screenshot(path=str(tmp_path / "to_fix.png"), full_page=True)


def test_an_auditor_reads_the_dashboard_and_takes_the_recipients_away(
    page, live_server, tmp_path, monkeypatch
):
    """The auditor opens the dashboard (screenshot), follows a figure of the return to the
    people behind it, and exports the recipients register as XLSX, one row per person."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone
    from openpyxl import load_workbook

    from beneficiaries.models import Entitlement
    from payments import services as payments
    from reports import services, statistics, tasks

    from .factories import make_household, make_id, member_data

    tree = make_tree()
    clerk = UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei)
    finance = UserFactory(username="finance", role="district_finance", jurisdiction=tree.yuzhong)
    approver = UserFactory(username="approver", role="district_approver", jurisdiction=tree.yuzhong)
    UserFactory(username="auditor", role="auditor", jurisdiction=tree.city, full_name="赵审计")
    families = [
        [("刘一", "19500101", 701, "head"), ("刘小妹", "20150101", 702, "child")],
        [("陈二", "19800101", 703, "head")],
    ]
    for index, family in enumerate(families):
        household = make_household(
            clerk,
            tree.village,
            members=[
                member_data(name, relation, id_number=make_id(birth, seq=seq))
                for name, birth, seq, relation in family
            ],
        )
        Entitlement.objects.create(
            household=household,
            programme="dibao",
            monthly_amount=Decimal("600.00"),
            klass="A",
            start_month=dt.date(2027, 1, 1),
            next_review=dt.date(2027, 12, 1),
            source=f"500103001-2026-0080{index}",
            approved_at=timezone.now(),
            approved_by=approver,
        )
    payroll = payments.payroll_request(
        actor=finance, district=tree.yuzhong, programme="dibao", month=dt.date(2027, 1, 1)
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    payments.payroll_approve(actor=approver, payroll=payroll, override_reason="浏览器测试")
    statistics.compute(month=dt.date(2027, 1, 1))
    # The worker is this test: the export is written when its request commits.
    monkeypatch.setattr(tasks.export_run, "delay", lambda pk: services.export_run(export_id=pk))

    _login(page, live_server, "auditor")
    page.get_by_role("link", name="打开数据看板").click()
    expect(page.get_by_role("heading", name="数据看板 · 重庆市 · 2027-01")).to_be_visible()
    recipients = page.locator("section#recipients")
    expect(recipients.locator("svg")).to_be_visible()
    expect(recipients.locator("tr", has_text="渝中区")).to_contain_text("3")
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    page.get_by_role("link", name="统计月报").first.click()
    page.get_by_role("link", name="渝中区").click()
    page.locator("tr", has_text="解放碑街道").get_by_role("link", name="3").first.click()
    expect(page.get_by_role("heading", name="人数: 3")).to_be_visible()
    expect(page.locator("table")).to_contain_text("刘一")

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="台账导出").click()
    page.get_by_label("台账", exact=True).select_option("entitlements")
    page.get_by_label("格式").select_option("xlsx")
    page.get_by_label("保障对象名册按人导出（每名共同生活成员一行）").check()
    page.get_by_role("button", name="导出").click()
    with page.expect_download() as download:
        page.locator("#exports").get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as handle:
        sheet = load_workbook(handle).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("户编号", "姓名", "身份证号")
    assert sorted(row[1] for row in rows[1:]) == ["刘一", "刘小妹", "陈二"]
    assert all("********" in row[2] for row in rows[1:])


def test_a_resident_looks_up_a_case_and_the_payments_on_a_phone(page, live_server, tmp_path):
    """At 360 px wide, no login: the case's steps by receipt, then the household's payments
    (screenshots); no horizontal scrolling."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from applications import services as applications
    from beneficiaries.models import Entitlement
    from core.services import calendar_seed_from_package
    from payments import services as payments

    from .factories import make_household, make_id, member_data

    tree = make_tree()
    calendar_seed_from_package()
    clerk = UserFactory(username="clerk", role="clerk", jurisdiction=tree.jiefangbei)
    finance = UserFactory(username="finance", role="district_finance", jurisdiction=tree.yuzhong)
    approver = UserFactory(username="approver", role="district_approver", jurisdiction=tree.yuzhong)
    head = make_id("19700101", seq=61)
    home = make_household(clerk, tree.village, members=[member_data("孙大山", id_number=head)])
    (case,) = applications.application_intake(
        actor=clerk,
        household=home,
        programmes=["dibao"],
        referrals=[],
        channel="window",
        materials_received={"id_card", "hukou_book", "authorisation", "pledge"},
    ).applications
    Entitlement.objects.create(
        household=home,
        programme="dibao",
        monthly_amount=Decimal("450.00"),
        klass="B",
        start_month=dt.date(2027, 1, 1),
        next_review=dt.date(2027, 7, 1),
        source=case.number,
        approved_at=timezone.now(),
        approved_by=approver,
    )
    payroll = payments.payroll_request(
        actor=finance, district=tree.yuzhong, programme="dibao", month=dt.date(2027, 1, 1)
    )
    payroll = payments.payroll_generate(payroll_id=payroll.pk)
    payments.payroll_approve(actor=approver, payroll=payroll, override_reason="浏览器测试")

    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_server.url}/chaxun/")
    page.get_by_role("link", name=re.compile("我的申请办到哪一步了")).click()
    page.get_by_label("受理回执编号").fill(case.number)
    page.get_by_label("身份证号码后六位").fill(head[-6:])
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("heading", name=re.compile("等待补齐材料"))).to_be_visible()
    expect(page.locator(".result")).to_contain_text("尚缺材料")
    expect(page.locator(".result")).not_to_contain_text("孙大山")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "progress-360.png"), full_page=True)

    page.get_by_role("link", name="全部服务").click()
    page.get_by_role("link", name=re.compile("这个月的救助金发了吗")).click()
    page.get_by_label("户编号").fill(home.number)
    page.get_by_label("户主身份证号码后六位").fill(head[-6:])
    page.get_by_role("button", name="查询").click()
    expect(page.locator(".payments")).to_contain_text("2027-01")
    expect(page.locator(".payments")).to_contain_text("450.00")
    expect(page.locator(".payments")).to_contain_text("已批准，待发放")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(tmp_path / "payments-360.png"), full_page=True)
