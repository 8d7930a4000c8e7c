"""Register exports (issue 15, first part): columns, masking, neutralisation, scoping, the
requester-only download, and memory that does not grow with the row count."""

import csv
import datetime as dt
import io
import tracemalloc
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from beneficiaries.models import Entitlement
from core.exceptions import OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from reports import services
from reports.models import Export
from reports.registers import REGISTERS

from .factories import make_household, make_id, member_data


def _household(cast, tree, seq, name="王大山"):
    return make_household(
        cast["clerk"], tree.village, members=[member_data(name, id_number=make_id(seq=seq))]
    )


def _entitle(cast, home, source="500103001-2026-00001", amount="500.00"):
    return Entitlement.objects.create(
        household=home,
        programme="dibao",
        monthly_amount=Decimal(amount),
        klass="C",
        start_month=dt.date(2026, 1, 1),
        next_review=dt.date(2026, 12, 1),
        source=source,
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )


def _run(actor, tree, register, fmt="csv", region=None, **kwargs) -> tuple[Export, bytes]:
    export = services.export_request(
        actor=actor, register=register, fmt=fmt, region=region or tree.yuzhong, **kwargs
    )
    export = services.export_run(export_id=export.pk)
    with default_storage.open(export.path, "rb") as handle:
        return export, handle.read()


def _rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_recipients_register_has_its_columns_one_row_each_and_masked_ids(cast, tree):
    for seq in range(3):
        _entitle(cast, _household(cast, tree, 800 + seq))
    export, content = _run(cast["auditor"], tree, "entitlements")
    rows = _rows(content)
    assert rows[0] == REGISTERS["entitlements"].columns
    assert len(rows) == 4 and export.rows == 3
    assert rows[1][2] == f"{make_id(seq=800)[:6]}********{make_id(seq=800)[14:]}"
    assert rows[1][7] == "最低生活保障(低保)" and rows[1][6] in ("城镇", "农村")
    assert rows[1][3] == tree.yuzhong.name and rows[1][4] == tree.jiefangbei.name


def test_full_ids_only_for_auditors_with_a_purpose_and_it_is_logged(cast, tree):
    _entitle(cast, _household(cast, tree, 810))
    with pytest.raises(ValidationFailed):
        services.export_request(
            actor=cast["auditor"],
            register="entitlements",
            fmt="csv",
            region=tree.yuzhong,
            full_identifiers=True,
        )
    with pytest.raises(ValidationFailed):
        services.export_request(
            actor=cast["district_approver"],
            register="entitlements",
            fmt="csv",
            region=tree.yuzhong,
            full_identifiers=True,
            purpose="核对",
        )
    _export, content = _run(
        cast["auditor"], tree, "entitlements", full_identifiers=True, purpose="审计署专项审计"
    )
    assert _rows(content)[1][2] == make_id(seq=810)
    event = AuditEvent.objects.get(object_type="reports.export", action="create")
    assert "审计署专项审计" in event.reason and event.actor == cast["auditor"]


def test_cells_that_a_spreadsheet_would_run_are_neutralised(cast, tree):
    _entitle(cast, _household(cast, tree, 820), source='=HYPERLINK("http://x")')
    _entitle(cast, _household(cast, tree, 821), source="@SUM(1)")
    rows = _rows(_run(cast["auditor"], tree, "entitlements")[1])
    assert rows[1][14] == '\'=HYPERLINK("http://x")' and rows[2][14] == "'@SUM(1)"
    from openpyxl import load_workbook

    _export, content = _run(cast["auditor"], tree, "entitlements", fmt="xlsx")
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet.cell(row=2, column=15).value == '\'=HYPERLINK("http://x")'
    assert sheet.cell(row=2, column=15).data_type == "s"


def test_a_region_outside_the_jurisdiction_is_refused_and_rows_stay_in_scope(cast, tree):
    _entitle(cast, _household(cast, tree, 830))
    other = make_household(
        cast["clerk_other"],
        tree.wanzhou_village,
        members=[member_data(id_number=make_id(area="500101", seq=831))],
    )
    _entitle(cast, other)
    with pytest.raises(OutOfScopeError):
        services.export_request(
            actor=cast["auditor_district"], register="entitlements", fmt="csv", region=tree.wanzhou
        )
    with pytest.raises(OutOfScopeError):
        services.export_request(
            actor=cast["clerk"], register="entitlements", fmt="csv", region=tree.jiefangbei
        )
    assert _run(cast["auditor_district"], tree, "entitlements")[0].rows == 1
    city = tree.yuzhong.parent
    assert _run(cast["auditor"], tree, "entitlements", region=city)[0].rows == 2


def test_every_register_writes_its_columns(cast, tree):
    from applications.services import application_intake
    from recertification.models import Review

    home = _household(cast, tree, 840)
    entitlement = _entitle(cast, home)
    application_intake(
        actor=cast["clerk"],
        household=home,
        programmes=["temporary"],
        referrals=["medical"],
        channel="window",
        materials_received=set(),
    )
    Review.objects.create(
        entitlement=entitlement,
        township=tree.jiefangbei,
        kind="periodic",
        opened_at=timezone.now(),
        due=dt.date(2026, 12, 1),
    )
    AuditEvent.objects.create(action="update", region_code=tree.village.code, reason="改")
    counts = {}
    for register, spec in REGISTERS.items():
        # The audit log is exported by the auditors only (三员分立).
        actor = cast["auditor"] if register == "audit_events" else cast["city_admin"]
        export, content = _run(actor, tree, register)
        rows = _rows(content)
        assert rows[0] == spec.columns, register
        assert all(len(row) == len(spec.columns) for row in rows), register
        assert export.rows == len(rows) - 1
        counts[register] = export.rows
    assert counts["referrals"] == 1 and counts["reviews"] == 1 and counts["applications"] == 1
    assert counts["entitlements"] == 1 and counts["objections"] == 0


def test_only_the_requester_downloads_and_the_api_follows_the_export(
    cast, tree, client, django_capture_on_commit_callbacks
):
    _entitle(cast, _household(cast, tree, 850))
    client.force_login(cast["auditor"])
    body = {
        "register": "entitlements",
        "format": "xlsx",
        "region": tree.yuzhong.code,
        "from": "2026-01-01",
        "to": "2026-12-31",
        "full_identifiers": False,
        "purpose": "",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/exports/", body, content_type="application/json")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    pk = response.json()["id"]
    detail = client.get(f"/api/v1/exports/{pk}/").json()
    assert detail["status"] == "done" and detail["rows"] == 1 and detail["progress"] == 100
    download = client.get(detail["download"])
    assert download.status_code == 200 and b"".join(download.streaming_content)[:2] == b"PK"
    assert client.get(f"/reports/exports/{pk}/download/").status_code == 200
    outside = {**body, "region": tree.wanzhou.code}
    client.force_login(cast["auditor_district"])
    assert (
        client.post("/api/v1/exports/", outside, content_type="application/json").status_code == 403
    )
    assert client.get(f"/api/v1/exports/{pk}/").status_code == 404
    assert client.get(f"/api/v1/exports/{pk}/download/").status_code == 404
    assert client.get(f"/reports/exports/{pk}/download/").status_code == 404
    # Expired: refused with a message.
    Export.objects.filter(pk=pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    client.force_login(cast["auditor"])
    assert client.get(f"/api/v1/exports/{pk}/download/").status_code == 400


def _events(n: int, region_code: str) -> None:
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                action="update",
                region_code=region_code,
                object_type="beneficiaries.household",
                object_id=str(i),
                object_repr=f"户{i}",
                reason="=1+1" if i % 1000 == 0 else "修改地址",
                changes={"address": ["旧址", "新址"]},
            )
            for i in range(n)
        ],
        batch_size=5000,
    )


def _peak(cast, tree) -> tuple[int, int]:
    """Rows written and the peak memory of writing them (the export's run, sealing included;
    not the test's own reading of the whole file back)."""
    export = services.export_request(
        actor=cast["auditor"], register="audit_events", fmt="csv", region=tree.yuzhong
    )
    tracemalloc.start()
    try:
        export = services.export_run(export_id=export.pk)
        return export.rows, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_streamed_export_does_not_hold_its_rows_in_memory(cast, tree):
    _events(5_000, tree.village.code)
    small_rows, small_peak = _peak(cast, tree)
    _events(45_000, tree.village.code)
    rows, peak = _peak(cast, tree)
    assert small_rows >= 5_000 and rows >= 50_000
    # Ten times the rows, not ten times the memory: the rows are streamed in chunks.
    assert peak < small_peak * 2, (small_peak, peak)


def test_expired_export_files_are_deleted(cast, tree):
    _entitle(cast, _household(cast, tree, 860))
    export, _content = _run(cast["auditor"], tree, "entitlements")
    assert default_storage.exists(export.path)
    assert services.exports_purge() == {"purged": 0}
    Export.objects.filter(pk=export.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.exports_purge() == {"purged": 1}
    assert not default_storage.exists(export.path)
    assert Export.objects.get(pk=export.pk).path == ""


def test_the_recipients_register_by_person_has_a_row_per_counted_member(cast, tree):
    home = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("王大山", id_number=make_id(seq=840)),
            member_data("李小花", "spouse", id_number=make_id("19820101", seq=842)),
            member_data(
                "王老四",
                "parent",
                id_number=make_id("19400101", seq=843),
                lives_with_household=False,
                absence_reason="prison",
            ),
        ],
    )
    _entitle(cast, home)
    alone = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data("赵一", id_number=make_id(seq=845)),
            member_data("赵二", "child", id_number=make_id("20100101", seq=847)),
        ],
    )
    Entitlement.objects.create(
        household=alone,
        programme="tekun",
        member=alone.members.get(name="赵二"),
        monthly_amount=Decimal("900.00"),
        klass="A",
        start_month=dt.date(2026, 1, 1),
        next_review=dt.date(2026, 12, 1),
        source="500103001-2026-00002",
        approved_at=timezone.now(),
        approved_by=cast["district_approver"],
    )
    export, content = _run(cast["auditor"], tree, "entitlements", per_member=True)
    rows = _rows(content)
    from reports.registers_people import RECIPIENTS_BY_PERSON

    assert rows[0] == RECIPIENTS_BY_PERSON.columns
    # The prisoner is not counted; the 单人保 lists only the member helped alone.
    assert sorted(row[1] for row in rows[1:]) == ["李小花", "王大山", "赵二"]
    assert export.rows == 3
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["李小花"][3] == "女" and by_name["李小花"][14] == "2"
    assert by_name["赵二"][12] == "特困人员救助供养" and by_name["赵二"][14] == "2"
    assert by_name["王大山"][2] == f"{make_id(seq=840)[:6]}********{make_id(seq=840)[14:]}"
    with pytest.raises(ValidationFailed):
        services.export_request(
            actor=cast["auditor"],
            register="reviews",
            fmt="csv",
            region=tree.yuzhong,
            per_member=True,
        )
