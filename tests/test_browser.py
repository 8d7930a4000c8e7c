"""In a real browser: Debian's chromium driven by Playwright against the live server."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import make_tree
from .factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
