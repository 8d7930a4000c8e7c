"""Household import: the dry run lists every row error with its row number, the commit is
all or nothing, and only district approvers and city administrators in scope see a batch."""

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from stdnum.cn import ric

from accounts.models import Role
from beneficiaries import import_check, imports
from beneficiaries.import_format import COLUMNS
from beneficiaries.models import Household, ImportBatch, Member
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent

from .factories import UserFactory

HEADERS = [c.header for c in COLUMNS]
VILLAGE, OTHER_VILLAGE, WANZHOU_VILLAGE = "500103001001", "500103001002", "500101001001"


def id_number(birth: str, sequence: str = "123", area: str = "500103") -> str:
    body = f"{area}{birth}{sequence}"
    return body + ric.calc_check_digit(body + "0")


HEAD_ID = id_number("19700101", "131")  # male: odd sequence
SPOUSE_ID = id_number("19720315", "242")  # female
CHILD_ID = id_number("20100620", "351")
SINGLE_ID = id_number("19550909", "462")


def row(ref, name, number, relation, village="", address="", residence="", **extra):
    values = {
        "户编号": ref,
        "村(社区)代码": village,
        "地址": address,
        "城乡类别": residence,
        "姓名": name,
        "身份证号": number,
        "与户主关系": relation,
        **extra,
    }
    return [values.get(header, "") for header in HEADERS]


def good_rows():
    return [
        row("A1", "王大山", HEAD_ID, "户主", VILLAGE, "解放碑1号", "城镇", 建档立卡="是"),
        row(
            "A1",
            "李小红",
            SPOUSE_ID,
            "配偶",
            残疾类别="肢体",
            残疾等级="二级",
            劳动能力="部分",
            劳动能力认定理由="经评估可从事轻体力劳动",
        ),
        row("A1", "王小宝", CHILD_ID, "子女", 共同生活="否", 不共同生活原因="其他"),
        row("B7", "赵老汉", SINGLE_ID, "户主", OTHER_VILLAGE, "民生路9号", "农村", 低保边缘="1"),
    ]


def csv_bytes(rows, *, encoding="utf-8-sig", headers=HEADERS) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([headers, *rows])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for values in [HEADERS, *rows]:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def upload(client, cast, django_capture_on_commit_callbacks):
    """Upload as the district approver (or ``user``); the check runs as Celery would."""

    def upload(content: bytes, name: str = "households.csv", user=None):
        client.force_login(user or cast["district_approver"])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("beneficiaries:import_list"), {"file": SimpleUploadedFile(name, content)}
            )
        assert response.status_code == 302, response.content.decode()
        return ImportBatch.objects.latest("pk")

    return upload


@pytest.fixture
def commit(client, cast, django_capture_on_commit_callbacks):
    def commit(batch, user=None, confirm=True):
        client.force_login(user or cast["district_approver"])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("beneficiaries:import_commit", args=[batch.pk]),
                {"confirm": "1"} if confirm else {},
            )
        assert response.status_code == 302
        batch.refresh_from_db()
        return batch

    return commit


def errors_by_row(batch) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for error in batch.errors:
        found.setdefault(error["row"], set()).add(error["code"])
    return found


def register(village, number: str) -> Member:
    household = Household.objects.create(
        number="50010300009999", region=village, address="已登记", residence_type="urban"
    )
    return Member.objects.create(
        household=household,
        name="已登记",
        id_number=number,
        sex="M",
        birth_date=dt.date(1970, 1, 1),
        relation="head",
    )


def assert_good_import(batch, commit, cast):
    assert batch.status == ImportBatch.Status.VALID, batch.errors
    assert (batch.total_rows, batch.household_count, batch.member_count) == (4, 2, 4)
    batch = commit(batch)
    assert batch.status == ImportBatch.Status.COMMITTED, batch.errors
    wang = Household.objects.get(head__id_number_digest=HEAD_ID)
    assert wang.number.startswith("500103") and len(wang.number) == 14
    assert wang.region.code == VILLAGE and wang.residence_type == "urban"
    assert wang.poverty_registered and not wang.marginal
    assert wang.created_by == cast["district_approver"]
    members = {m.id_number: m for m in wang.members.all()}
    assert set(members) == {HEAD_ID, SPOUSE_ID, CHILD_ID}
    spouse, child = members[SPOUSE_ID], members[CHILD_ID]
    assert (spouse.sex, spouse.birth_date) == ("F", dt.date(1972, 3, 15))
    assert (spouse.disability_type, spouse.disability_grade, spouse.labour_capacity) == (
        "physical",
        2,
        "partial",
    )
    assert (members[HEAD_ID].sex, members[HEAD_ID].relation) == ("M", "head")
    assert (child.lives_with_household, child.absence_reason) == (False, "other")
    zhao = Household.objects.get(head__id_number_digest=SINGLE_ID)
    assert zhao.residence_type == "rural" and zhao.marginal and zhao.region.code == OTHER_VILLAGE
    assert {wang.number[6:], zhao.number[6:]} == {"00000001", "00000002"}
    # One audit event for the batch; history for every record, without one event each.
    event = AuditEvent.objects.get(object_type="beneficiaries.importbatch")
    assert event.action == "create" and event.actor == cast["district_approver"]
    assert Member.history.filter(history_type="+").count() == 4
    assert Household.history.get(number=wang.number).head_id == members[HEAD_ID].pk
    # ...and one audit event per household, so its change history says where it came from.
    created = AuditEvent.objects.get(case_key=f"household:{wang.pk}")
    assert created.action == "create" and created.region_code == VILLAGE


def test_good_csv_is_checked_then_imported(upload, commit, cast):
    batch = upload(csv_bytes(good_rows()))
    assert batch.file.name.startswith("imports/") and "households" not in batch.file.name
    assert batch.original_name == "households.csv"
    assert_good_import(batch, commit, cast)


def test_good_xlsx_is_imported(upload, commit, cast):
    assert_good_import(upload(xlsx_bytes(good_rows()), "户籍名单.xlsx"), commit, cast)


def test_gb18030_csv_from_excel_is_read(upload, commit, cast):
    batch = upload(csv_bytes(good_rows(), encoding="gb18030"))
    assert_good_import(batch, commit, cast)
    assert Member.objects.filter(name="赵老汉").exists()


def test_english_headers_and_codes_are_accepted(upload):
    rows = [["A1", VILLAGE, "解放碑1号", "urban", "王大山", HEAD_ID, "head", "yes", "full"]]
    headers = [
        "household_ref",
        "village_code",
        "address",
        "residence_type",
        "name",
        "id_number",
        "relation",
        "lives_with_household",
        "labour_capacity",
    ]
    batch = upload(csv_bytes(rows, headers=headers))
    assert batch.status == ImportBatch.Status.VALID, batch.errors


def test_every_bad_row_is_reported_with_its_row_number_and_nothing_is_written(upload, commit):
    bad_check_digit = HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")
    rows = [
        row("A1", "王大山", bad_check_digit, "户主", VILLAGE, "解放碑1号", "城镇"),  # row 2
        row("A1", "", SPOUSE_ID, "配偶"),  # row 3: no name
        row("A1", "王小宝", CHILD_ID, "表亲"),  # row 4: unknown relation
        row("B1", "赵老汉", SINGLE_ID, "户主", "5001030010", "民生路9号", "城乡"),  # row 5
        row("C1", "钱一", id_number("19800101", "111"), "配偶"),  # row 6: no head
        row("D1", "孙二", id_number("20150101", "113"), "户主", VILLAGE, "地址", "农村"),  # 7
        row("A1", "王二宝", id_number("20120101", "115"), "子女", 城乡类别="农村"),  # row 8
        row("E1", "周三", id_number("19800101", "117"), "户主", VILLAGE, "地址", "城镇"),  # 9: fine
        row("E1", "吴四", id_number("19820101", "128"), "配偶", 残疾等级="五级"),  # row 10
    ]
    batch = upload(csv_bytes(rows))
    assert batch.status == ImportBatch.Status.INVALID
    found = errors_by_row(batch)
    assert found[2] == {"id_checksum"}
    assert found[3] == {"required"}
    assert found[4] == {"invalid_choice"}
    assert found[5] == {"village_format", "invalid_choice"}
    assert found[6] == {"household"}  # no head of household
    assert found[7] == {"member"}  # a head under 16
    assert found[8] == {"household_mismatch"}  # 农村 against the head's 城镇
    assert found[10] == {"invalid_grade"}
    assert 9 not in found
    assert batch.error_count == len(batch.errors) == 9
    assert [e["row"] for e in batch.errors] == sorted(e["row"] for e in batch.errors)
    columns = {(e["row"], e["column"]) for e in batch.errors}
    assert {(2, "身份证号"), (3, "姓名"), (4, "与户主关系"), (10, "残疾等级")} <= columns
    assert not Household.objects.exists() and not Member.objects.exists()
    # An invalid batch cannot be committed.
    assert commit(batch).status == ImportBatch.Status.INVALID
    assert not Household.objects.exists()


def test_messages_reuse_the_id_number_explanations(upload):
    bad = HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")
    batch = upload(csv_bytes([row("A1", "王大山", bad, "户主", VILLAGE, "地址", "城镇")]))
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.UPLOADED)
    with translation.override("en"):
        imports.import_batch_check(batch_id=batch.pk)
    batch.refresh_from_db()
    assert "check digit is wrong" in batch.errors[0]["message"]


def test_missing_columns_are_one_error_for_the_file(upload):
    headers = [h for h in HEADERS if h not in ("身份证号", "地址")]
    batch = upload(csv_bytes([["A1"] * len(headers)], headers=headers))
    assert batch.status == ImportBatch.Status.INVALID
    assert batch.error_count == 1
    (error,) = batch.errors
    assert error["code"] == "missing_columns" and error["row"] is None
    assert "身份证号" in error["message"] and "地址" in error["message"]


def test_duplicates_in_the_file_and_in_the_register(upload, tree):
    register(tree.village, SINGLE_ID)
    rows = [
        *good_rows()[:3],
        row("B7", "赵老汉", SINGLE_ID, "户主", OTHER_VILLAGE, "民生路9号", "农村"),  # row 5
        row("C1", "王大山", HEAD_ID, "户主", VILLAGE, "别处", "城镇"),  # row 6: as row 2
    ]
    batch = upload(csv_bytes(rows))
    assert batch.status == ImportBatch.Status.INVALID
    assert errors_by_row(batch) == {5: {"id_registered"}, 6: {"id_in_file"}}
    message = next(e["message"] for e in batch.errors if e["row"] == 5)
    assert "50010300009999" in message  # where the person is, inside the uploader's scope


def test_village_outside_the_jurisdiction_is_refused(upload):
    rows = [
        row("A1", "王大山", HEAD_ID, "户主", WANZHOU_VILLAGE, "白岩1号", "城镇"),
        row("B1", "赵老汉", SINGLE_ID, "户主", WANZHOU_VILLAGE, "白岩2号", "城乡"),
    ]
    batch = upload(csv_bytes(rows))
    # The village is checked even when another household cell of the row is wrong.
    assert errors_by_row(batch) == {2: {"village_scope"}, 3: {"village_scope", "invalid_choice"}}


def test_unknown_inactive_and_non_village_codes(upload, tree):
    tree.other_village.is_active = False
    tree.other_village.save()
    rows = [
        row("A1", "王大山", HEAD_ID, "户主", "500103001099", "地址", "城镇"),
        row("B1", "赵老汉", SINGLE_ID, "户主", OTHER_VILLAGE, "地址", "城镇"),
        row(
            "C1", "钱一", id_number("19800101", "111"), "户主", tree.jiefangbei.code, "地址", "城镇"
        ),
    ]
    batch = upload(csv_bytes(rows))
    assert errors_by_row(batch) == {
        2: {"village_unknown"},
        3: {"village_inactive"},
        4: {"village_level"},
    }


def test_rollback_when_the_constraint_fires_at_commit(upload, commit, tree, monkeypatch):
    batch = upload(csv_bytes(good_rows()))
    assert batch.status == ImportBatch.Status.VALID
    # Someone registers the child between the re-check and the insert.
    register(tree.village, CHILD_ID)
    monkeypatch.setattr(import_check, "registered_members", lambda numbers: [])
    batch = commit(batch)
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.errors[0]["code"] == "id_registered_meanwhile"
    assert batch.errors[0]["row"] in (None, 4)  # PostgreSQL names the number, SQLite does not
    assert Household.objects.count() == 1  # only the one registered meanwhile
    assert Member.objects.count() == 1
    assert not Member.history.filter(id_number_digest=HEAD_ID).exists()
    assert not AuditEvent.objects.filter(object_type="beneficiaries.importbatch").exists()


def test_commit_rechecks_the_register(upload, commit, tree):
    batch = upload(csv_bytes(good_rows()))
    register(tree.village, SPOUSE_ID)
    batch = commit(batch)
    assert batch.status == ImportBatch.Status.FAILED
    assert errors_by_row(batch) == {3: {"id_registered"}}
    assert Household.objects.count() == 1


def test_commit_needs_the_confirmation_box(upload, commit):
    batch = upload(csv_bytes(good_rows()))
    assert commit(batch, confirm=False).status == ImportBatch.Status.VALID
    assert not Household.objects.exists()


def test_commit_service_refuses_a_batch_that_is_not_valid(upload, cast):
    batch = upload(csv_bytes([row("A1", "", HEAD_ID, "户主", VILLAGE, "地址", "城镇")]))
    with pytest.raises(ConflictError):
        imports.import_batch_commit(actor=cast["district_approver"], batch_id=batch.pk)
    colleague = UserFactory(
        username="yuzhong_approver_2",
        role=Role.DISTRICT_APPROVER,
        jurisdiction=cast["district_approver"].jurisdiction,
    )
    with pytest.raises(OutOfScopeError):  # neither the uploader nor a city administrator
        imports.import_batch_commit(actor=colleague, batch_id=batch.pk)


def test_city_admin_may_commit_a_district_batch(upload, commit, cast):
    batch = commit(upload(csv_bytes(good_rows())), user=cast["city_admin"])
    assert batch.status == ImportBatch.Status.COMMITTED
    assert (
        AuditEvent.objects.get(object_type="beneficiaries.importbatch").actor == cast["city_admin"]
    )


@pytest.mark.parametrize("role", ["clerk", "township_reviewer", "auditor", "village_worker"])
def test_other_roles_get_403(client, cast, role):
    client.force_login(cast[role])
    assert client.get(reverse("beneficiaries:import_list")).status_code == 403
    assert client.get(reverse("beneficiaries:import_template")).status_code == 403


def test_batches_are_visible_only_inside_the_jurisdiction(client, upload, cast, tree):
    batch = upload(csv_bytes(good_rows()))
    wanzhou = UserFactory(
        username="wanzhou_approver", role=Role.DISTRICT_APPROVER, jurisdiction=tree.wanzhou
    )
    client.force_login(wanzhou)
    for name in ("import_detail", "import_errors_csv"):
        assert client.get(reverse(f"beneficiaries:{name}", args=[batch.pk])).status_code == 404
    url = reverse("beneficiaries:import_commit", args=[batch.pk])
    assert client.post(url, {"confirm": "1"}).status_code == 404
    assert (
        batch.original_name not in client.get(reverse("beneficiaries:import_list")).content.decode()
    )
    client.force_login(cast["clerk_other"])
    assert client.get(reverse("beneficiaries:import_detail", args=[batch.pk])).status_code == 403
    client.force_login(cast["city_admin"])
    assert client.get(reverse("beneficiaries:import_detail", args=[batch.pk])).status_code == 200


def test_upload_refuses_other_file_types_and_empty_files(client, cast):
    client.force_login(cast["district_approver"])
    url = reverse("beneficiaries:import_list")
    for name, content in (("list.xls", b"x"), ("list.csv", b"")):
        response = client.post(url, {"file": SimpleUploadedFile(name, content)})
        assert response.status_code == 400
    assert not ImportBatch.objects.exists()
    with pytest.raises(OutOfScopeError):
        imports.import_batch_create(
            actor=cast["clerk"], uploaded_file=SimpleUploadedFile("a.csv", b"x")
        )
    with pytest.raises(ValidationFailed):
        imports.import_batch_create(
            actor=cast["district_approver"], uploaded_file=SimpleUploadedFile("a.txt", b"x")
        )


def test_errors_csv_has_a_bom_and_every_stored_error(client, upload):
    rows = [row("A1", "", HEAD_ID, "户主", VILLAGE, "地址", "城镇")]
    batch = upload(csv_bytes(rows))
    response = client.get(reverse("beneficiaries:import_errors_csv", args=[batch.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines[1][:2] == ["2", "姓名"]


def test_detail_page_lists_errors_and_polls_while_running(client, upload, cast):
    batch = upload(csv_bytes([row("A1", "", HEAD_ID, "户主", VILLAGE, "地址", "城镇")]))
    page = client.get(reverse("beneficiaries:import_detail", args=[batch.pk])).content.decode()
    assert "姓名" in page and "hx-trigger" not in page
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.CHECKING)
    response = client.get(
        reverse("beneficiaries:import_detail", args=[batch.pk]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert 'hx-trigger="every 2s"' in body and "<html" not in body


def test_valid_batch_offers_the_confirmation(client, upload):
    batch = upload(csv_bytes(good_rows()))
    page = client.get(reverse("beneficiaries:import_detail", args=[batch.pk])).content.decode()
    assert reverse("beneficiaries:import_commit", args=[batch.pk]) in page
    assert 'name="confirm"' in page


def test_template_has_chinese_headers_and_imports_cleanly(client, upload, commit, cast):
    client.force_login(cast["district_approver"])
    response = client.get(reverse("beneficiaries:import_template"))
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADERS and len(rows) == 4
    batch = upload(response.content)
    assert batch.status == ImportBatch.Status.VALID, batch.errors
    assert commit(batch).status == ImportBatch.Status.COMMITTED
    assert Household.objects.get().members.count() == 3


def test_import_list_query_count_is_fixed(client, upload, cast, django_assert_num_queries):
    for _ in range(3):
        upload(csv_bytes(good_rows()))
    client.force_login(cast["district_approver"])
    # session, user, the second factor's device, jurisdiction, count, the page of batches with
    # their uploaders, inbox badge
    with django_assert_num_queries(7):
        assert client.get(reverse("beneficiaries:import_list")).status_code == 200


def test_error_list_keeps_the_first_thousand_but_counts_all(upload, settings):
    rows = [
        row(f"H{i}", "", id_number("19800101", f"{i % 1000:03d}", "500104"), "户主", VILLAGE)
        for i in range(600)
    ]
    batch = upload(csv_bytes(rows))
    # each row: no name, no address, no residence type
    assert batch.error_count == 1800
    assert len(batch.errors) == 1000
    assert batch.errors[0]["row"] == 2 and batch.errors[-1]["row"] == 335


def test_error_report_download_has_every_error(client, upload):
    rows = [
        row(f"H{i}", "", id_number("19800101", f"{i % 1000:03d}", "500104"), "户主", VILLAGE)
        for i in range(600)
    ]
    batch = upload(csv_bytes(rows))
    response = client.get(reverse("beneficiaries:import_errors_csv", args=[batch.pk]))
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(lines) == 1 + 1800  # header + every error, not only the 1,000 on the page
    assert lines[-1][0] == "601"


def test_xlsx_number_cells_that_lost_digits_and_broken_workbooks(upload):
    rows = good_rows()
    rows[1][HEADERS.index("身份证号")] = 500103197203152420.0  # typed into a number cell
    batch = upload(xlsx_bytes(rows), "名单.xlsx")
    assert errors_by_row(batch) == {3: {"excel_number"}}
    batch = upload(b"PK\x03\x04 not really a workbook", "名单.xlsx")
    assert [e["code"] for e in batch.errors] == ["file_unreadable"]


def test_blank_lines_count_as_rows_and_are_skipped(upload):
    rows = [*good_rows()[:3], [""] * len(HEADERS), good_rows()[3]]
    rows[4][HEADERS.index("姓名")] = ""
    batch = upload(csv_bytes(rows))
    assert errors_by_row(batch) == {6: {"required"}}
    assert batch.total_rows == 4
