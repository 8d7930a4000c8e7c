"""The anonymous surface is isolated (DESIGN.md §9, §12): the public pages and the public API
read through one selector whose queries select public columns only, and nothing in the
notices app imports a model that holds ID numbers, phones, addresses or bank accounts."""

import importlib
import inspect
import pkgutil
import re

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

import notices
from notices.selectors import PUBLIC_NOTICE_COLUMNS
from notices.services import standing_refresh

from .test_review import _approved, calendar, new_case, to_notice  # noqa: F401 (fixture)

# table → the columns a public query may select from it
PUBLIC_COLUMNS = {
    "notices_notice": set(PUBLIC_NOTICE_COLUMNS),
    "notices_standingrow": {
        "entitlement_id",
        "village_code",
        "township",
        "village",
        "masked_name",
        "household_size",
        "programme",
        "amount",
    },
    "notices_standingtally": {"village_code", "households"},
    # what the standing list is rebuilt from (``services.standing_refresh``)
    "beneficiaries_entitlement": {"id", "programme", "monthly_amount"},
    # the head's name (masked before any view sees it), and the count of counted members
    # (the columns of its condition are counted over, never returned)
    "beneficiaries_member": {
        "name",
        "id",
        "is_current",
        "lives_with_household",
        "absence_reason",
        "absence_counted",
    },
    "regions_region": {"id", "code", "name", "level", "parent_id", "is_active"},
}
PERSONAL_FIELDS = {"id_number", "phone", "address", "bank_account_number", "bank_account_name"}


def _select_lists(sql: str) -> list[str]:
    """The select list of every SELECT in a statement (subqueries included)."""
    lists = []
    for match in re.finditer(r"\bSELECT\b", sql):
        depth, i = 0, match.end()
        while i < len(sql):
            if sql[i] == "(":
                depth += 1
            elif sql[i] == ")":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and sql.startswith(" FROM ", i):
                break
            i += 1
        lists.append(sql[match.end() : i])
    return lists


def _selected(queries) -> dict[str, set[str]]:
    """table → columns named in select lists, through Django's table aliases (T4, U0…)."""
    columns: dict[str, set[str]] = {}
    for query in queries:
        sql = query["sql"]
        aliases = {
            alias: table for table, alias in re.findall(r'"(\w+)" (?:AS )?"?([TUV]\d+)\b', sql)
        }
        for select_list in _select_lists(sql):
            for table, alias, column in re.findall(
                r'(?:"(\w+)"|\b([TUV]\d+))\."(\w+)"', select_list
            ):
                table = aliases.get(table, table)
                columns.setdefault(table or aliases.get(alias, alias), set()).add(column)
    return columns


def test_public_pages_and_api_select_only_public_columns(client, cast, tree, calendar):  # noqa: F811
    _approved(cast, tree, "王小明")
    noticed = to_notice(cast, new_case(cast, tree))
    urls = [
        "/gongshi/",
        f"/gongshi/{tree.yuzhong.code}/",
        f"/gongshi/{tree.village.code}/",
        f"/gongshi/notices/{noticed.notices.get().pk}/objection/",
        "/api/v1/public/notices/",
        f"/api/v1/public/notices/?region_code={tree.jiefangbei.code}",
    ]
    with CaptureQueriesContext(connection) as captured:
        standing_refresh()  # the standing list is built from the entitlements, for the pages
        for url in urls:
            assert client.get(url).status_code == 200, url
    selected = _selected(captured.captured_queries)
    assert selected["notices_notice"] and selected["notices_standingrow"]
    assert selected["beneficiaries_entitlement"]
    for table, columns in selected.items():
        assert table in PUBLIC_COLUMNS, f"a public page selected from {table}: {columns}"
        assert columns <= PUBLIC_COLUMNS[table], (table, columns - PUBLIC_COLUMNS[table])


def test_the_column_check_would_catch_a_private_column():
    sql = (
        'SELECT "beneficiaries_member"."name", T4."id_number", COUNT(U0."phone") FROM '
        '"beneficiaries_household" INNER JOIN "beneficiaries_member" T4 ON (x) '
        'LEFT JOIN "beneficiaries_household" U0 ON (y) WHERE T4."id" IN (SELECT V1."address" '
        'FROM "beneficiaries_household" V1)'
    )
    assert _selected([{"sql": sql}]) == {
        "beneficiaries_member": {"name", "id_number"},
        "beneficiaries_household": {"phone", "address"},
    }


def test_nothing_in_notices_imports_a_model_holding_personal_data():
    modules = [
        importlib.import_module(f"notices.{info.name}")
        for info in pkgutil.iter_modules(notices.__path__)
        if info.name != "migrations"
    ]
    assert {m.__name__ for m in modules} >= {
        "notices.models",
        "notices.selectors",
        "notices.services",
        "notices.views",
        "notices.api",
    }
    for module in modules:
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Model) and not value._meta.abstract:
                fields = {f.name for f in value._meta.get_fields()}
                assert not fields & PERSONAL_FIELDS, f"{module.__name__} imports {name}"


@pytest.mark.parametrize("module", ["notices.views", "notices.api"])
def test_public_views_read_only_through_the_public_board(module):
    """The views and API reach the data through ``PublicBoard`` alone."""
    source = inspect.getsource(importlib.import_module(module))
    assert "PublicBoard" in source
    assert ".objects" not in source
