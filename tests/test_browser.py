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
