import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from beneficiaries import economics_services, selectors, services, tasks
from beneficiaries.models import Household, IncomeItem, Member, MemberMove
from beneficiaries.namesearch import name_contains
from core.exceptions import ConflictError, OutOfScopeError, ValidationFailed
from core.models import AuditEvent
from core.pagination import CappedPaginator

from .factories import HOUSEHOLD_FIELDS, make_household, make_id, member_data

HEAD_ID = make_id("19700101", seq=11)
SPOUSE_ID = make_id("19720202", seq=22)
CHILD_ID = make_id("20100303", seq=33)


def family(**head):
    return [
        member_data("张大山", "head", id_number=HEAD_ID, **head),
        member_data("李秀英", "spouse", id_number=SPOUSE_ID),
        member_data("张小明", "child", id_number=CHILD_ID, schooling="compulsory"),
    ]


@pytest.fixture
def household(cast, tree):
    return make_household(cast["clerk"], tree.village, members=family())


# --- Registration -------------------------------------------------------------------------


def test_create_derives_number_sex_birth_date_and_head(household, tree):
    assert household.number == "50010300000001"
    assert household.region == tree.village
    head = household.head
    assert (head.name, head.sex, head.birth_date) == ("张大山", "M", dt.date(1970, 1, 1))
    assert household.members.get(id_number_digest=SPOUSE_ID).sex == "F"
    assert household.members.count() == 3


def test_household_numbers_count_per_district(cast, tree):
    first = make_household(cast["clerk"], tree.village, members=family())
    second = make_household(
        cast["clerk"], tree.other_village, members=[member_data(id_number=make_id(seq=5))]
    )
    assert (first.number, second.number) == ("50010300000001", "50010300000002")


@pytest.mark.parametrize(
    ("not_done", "level"),
    [(0, "capable"), (1, "partial"), (3, "partial"), (4, "none"), (6, "none")],
)
def test_self_care_level_from_six_items(cast, tree, not_done, level):
    items = dict.fromkeys(Member.DAILY_LIVING_ITEMS[:not_done], False)
    household = make_household(
        cast["clerk"], tree.village, members=[member_data(id_number=HEAD_ID, **items)]
    )
    assert household.head.self_care == level


@pytest.mark.parametrize(
    ("members", "path", "message"),
    [
        ([member_data(id_number=make_id("20150101"))], "members.0.relation", "年满16周岁"),
        (
            [member_data(id_number=HEAD_ID), member_data("李四", "head", id_number=SPOUSE_ID)],
            "members",
            "只能标记一名户主",
        ),
        (
            [member_data(id_number=HEAD_ID), member_data("李四", "spouse", id_number=HEAD_ID)],
            "members.1.id_number",
            "重复录入",
        ),
        (
            [member_data(id_number=HEAD_ID, lives_with_household=False)],
            "members.0.absence_reason",
            "不共同生活的原因",
        ),
        (
            [member_data(id_number=HEAD_ID, disability_type="physical")],
            "members.0.disability_grade",
            "残疾等级",
        ),
    ],
)
def test_composition_rules(cast, tree, members, path, message):
    with pytest.raises(ValidationFailed) as exc:
        make_household(cast["clerk"], tree.village, members=members)
    errors = dict(exc.value.errors)
    assert path in errors and message in errors[path], exc.value.errors
    assert not Household.objects.exists()


def test_only_writers_in_jurisdiction_may_register(cast, tree):
    with pytest.raises(OutOfScopeError):
        make_household(cast["clerk_other"], tree.village, members=family())
    with pytest.raises(OutOfScopeError):
        make_household(cast["district_approver"], tree.village, members=family())
    with pytest.raises(ValidationFailed):  # a township is not a village
        make_household(cast["clerk"], tree.jiefangbei, members=family())


# --- One person, one current record ----------------------------------------------------------


def test_database_refuses_a_second_current_record(household):
    other = Household.objects.create(
        number="X1", region=household.region, address="a", residence_type="urban"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Member.objects.create(
            household=other,
            name="张大山",
            id_number=HEAD_ID,
            relation="head",
            sex="M",
            birth_date=dt.date(1970, 1, 1),
        )
    # A person who left the register may be registered again.
    Member.objects.filter(id_number_digest=HEAD_ID).update(is_current=False)
    Member.objects.create(
        household=other,
        name="张大山",
        id_number=HEAD_ID,
        relation="head",
        sex="M",
        birth_date=dt.date(1970, 1, 1),
    )


def test_duplicate_shows_where_when_visible(household, cast, tree):
    with pytest.raises(services.DuplicatePersonError) as exc:
        make_household(cast["clerk"], tree.other_village, members=[member_data(id_number=HEAD_ID)])
    message = dict(exc.value.errors)["members.0.id_number"]
    assert household.number in message and tree.village.name in message


def test_duplicate_hides_where_when_outside_jurisdiction(household, cast, tree):
    with pytest.raises(services.DuplicatePersonError) as exc:
        make_household(
            cast["clerk_other"], tree.wanzhou_village, members=[member_data(id_number=HEAD_ID)]
        )
    message = dict(exc.value.errors)["members.0.id_number"]
    assert household.number not in message and tree.village.name not in message
    assert "其他辖区" in message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_registrations_of_one_person_leave_one_record(cast, tree):
    """Two clerks save the same new person at the same moment: the database lets one win."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent transactions (CI runs it)")
    barrier, results = threading.Barrier(2), []
    number = make_id("19660606", seq=7)

    def register(village):
        try:
            barrier.wait()
            make_household(cast["clerk"], village, members=[member_data(id_number=number)])
            results.append("ok")
        except services.DuplicatePersonError:
            results.append("duplicate")
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=register, args=(v,)) for v in (tree.village, tree.other_village)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["duplicate", "ok"]
    assert Member.objects.filter(id_number_digest=number, is_current=True).count() == 1


def test_move_records_a_reason_and_never_copies(household, cast, tree):
    target = make_household(
        cast["clerk"], tree.other_village, members=[member_data("王五", id_number=make_id(seq=9))]
    )
    child = household.members.get(id_number_digest=CHILD_ID)
    services.member_move(
        actor=cast["clerk"],
        member=child,
        to_household=target,
        relation="grandchild",
        reason="随祖父母生活",
    )
    assert Member.objects.filter(id_number_digest=CHILD_ID).count() == 1
    child.refresh_from_db()
    assert (child.household, child.relation) == (target, "grandchild")
    move = MemberMove.objects.get()
    assert (move.from_household, move.reason, move.moved_by) == (
        household,
        "随祖父母生活",
        cast["clerk"],
    )
    assert AuditEvent.objects.filter(action="transition", to_state=target.number).exists()


def test_window_moves_a_person_in_from_another_district(household, cast, tree):
    """The window that serves the family moves them, wherever they were registered; both
    jurisdictions see the move in their audit log."""
    target = make_household(
        cast["clerk_other"],
        tree.wanzhou_village,
        members=[member_data(id_number=make_id(area="500101"))],
    )
    child = household.members.get(id_number_digest=CHILD_ID)
    services.member_move(
        actor=cast["clerk_other"],
        member=child,
        to_household=target,
        relation="other",
        reason="随亲属迁居万州",
    )
    child.refresh_from_db()
    assert child.household == target
    regions = set(
        AuditEvent.objects.filter(action="transition").values_list("region_code", flat=True)
    )
    assert regions == {tree.village.code, tree.wanzhou_village.code}


def test_a_head_with_family_cannot_be_moved_but_a_sole_member_can(household, cast, tree):
    own = make_household(
        cast["clerk"], tree.other_village, members=[member_data("王五", id_number=make_id(seq=9))]
    )
    with pytest.raises(ValidationFailed):
        services.member_move(
            actor=cast["clerk"],
            member=household.head,
            to_household=own,
            relation="other",
            reason="r",
        )
    services.member_move(
        actor=cast["clerk"],
        member=own.head,
        to_household=household,
        relation="other",
        reason="投靠亲属",
    )
    own.refresh_from_db()
    assert own.head is None and own.members.filter(is_current=True).count() == 0


def test_split_household_moves_the_person_instead_of_a_second_record(household, cast, tree):
    """分户: the son sets up his own household as its head; he is moved, not re-entered."""
    with pytest.raises(services.DuplicatePersonError):
        make_household(
            cast["clerk"], tree.other_village, members=[member_data("李秀英", id_number=SPOUSE_ID)]
        )
    new = make_household(
        cast["clerk"],
        tree.other_village,
        members=[member_data("李秀英", id_number=SPOUSE_ID, move_reason="分户独立生活")],
    )
    assert Member.objects.filter(id_number_digest=SPOUSE_ID).count() == 1
    assert new.head.id_number == SPOUSE_ID
    assert MemberMove.objects.get().reason == "分户独立生活"


# --- Edits: history, conflicts ------------------------------------------------------------------


def _update(actor, household, version, **changes):
    members = [
        {**{f: getattr(m, f) for f in services.MEMBER_FIELDS}, "id": m.pk}
        for m in household.members.filter(is_current=True).order_by("id")
    ]
    fields = {**{f: getattr(household, f) for f in services.HOUSEHOLD_FIELDS}, **changes}
    return services.household_update(
        actor=actor,
        household=household,
        expected_version=version,
        region=household.region,
        fields=fields,
        members=members,
    )


def test_second_concurrent_edit_gets_a_conflict_and_loses_nothing(household, cast):
    version = household.version
    _update(cast["clerk"], household, version, address="新地址一号")
    with pytest.raises(ConflictError) as exc:
        _update(cast["township_reviewer"], household, version, address="新地址二号")
    assert "clerk" in exc.value.message
    household.refresh_from_db()
    assert household.address == "新地址一号" and household.version == version + 1


def test_edit_writes_history_with_before_and_after(household, cast):
    _update(cast["clerk"], household, household.version, phone="13900009999")
    event = AuditEvent.objects.filter(
        case_key=f"household:{household.pk}", action="update", object_type="beneficiaries.household"
    ).latest("id")
    assert event.actor == cast["clerk"]
    # The log keeps personal numbers masked; the full values stay in the (encrypted) history.
    assert event.changes["phone"] == ["*******1234", "*******9999"]
    assert [h.phone for h in household.history.order_by("-history_id")[:2]] == [
        "13900009999",
        "13800001234",
    ]
    member_events = AuditEvent.objects.filter(
        case_key=f"household:{household.pk}", object_type="beneficiaries.member"
    )
    assert member_events.count() == 3  # each member's creation


def test_removing_a_member_needs_a_reason_and_keeps_the_record(household, cast):
    child = Member.objects.get(id_number_digest=CHILD_ID)
    IncomeItem.objects.create(member=child, type="wage", monthly_amount=Decimal("100"))
    members = [{"id": m.pk} for m in household.members.exclude(pk=child.pk).order_by("id")]

    def update(removals):
        household.refresh_from_db()
        services.household_update(
            actor=cast["clerk"],
            household=household,
            expected_version=household.version,
            region=household.region,
            fields={},
            members=members,
            removals=removals,
        )

    with pytest.raises(ValidationFailed) as exc:
        update({})
    assert "张小明" in exc.value.message
    update({child.pk: "moved_out"})
    child.refresh_from_db()
    assert (child.is_current, child.leave_reason, child.household) == (
        False,
        "moved_out",
        household,
    )
    assert not child.incomes.exists()  # their income ends with their membership


def test_update_with_partial_member_data_keeps_derived_fields(cast, tree):
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data(
                id_number=HEAD_ID,
                disability_type="physical",
                disability_grade=2,
                can_eat=False,
                can_dress=False,
                can_bathe=False,
                can_toilet=False,
            )
        ],
    )
    head = household.head
    assert head.self_care == "none"
    services.household_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        region=household.region,
        fields={},
        members=[{"id": head.pk, "name": "张大山改"}],
    )
    head.refresh_from_db()
    assert (head.name, head.self_care, head.disability_grade) == ("张大山改", "none", 2)


def test_economics_and_counted_summary(household, cast):
    head = household.head
    spouse = household.members.get(id_number_digest=SPOUSE_ID)
    economics_services.household_economics_update(
        actor=cast["clerk"],
        household=household,
        expected_version=household.version,
        incomes=[
            {"member": head, "type": "wage", "monthly_amount": Decimal("900.00")},
            {"member": spouse, "type": "pension", "monthly_amount": Decimal("301.00")},
            {"member": spouse, "type": "scholarship", "monthly_amount": Decimal("500")},
        ],
        assets=[{"type": "house", "value": Decimal("80000"), "count": 1, "area": Decimal("60")}],
        expenditures=[{"type": "medical", "amount_12m": Decimal("12000")}],
    )
    detail = selectors.household_detail(user=cast["clerk"], pk=household.pk)
    summary = selectors.counted_summary(detail)
    assert summary.counted_size == 3
    assert summary.counted_income == Decimal("1201.00")  # the scholarship is not counted
    assert summary.income_per_person == Decimal("400.33")
    household.refresh_from_db()
    with pytest.raises(ValidationFailed):
        economics_services.household_economics_update(
            actor=cast["clerk"],
            household=household,
            expected_version=household.version,
            incomes=[{"member": head, "type": "wage", "monthly_amount": Decimal("-1")}],
            assets=[],
            expenditures=[],
        )
    with pytest.raises(ConflictError):  # a version read before the last save
        economics_services.household_economics_update(
            actor=cast["clerk"],
            household=household,
            expected_version=household.version - 1,
            incomes=[],
            assets=[],
            expenditures=[],
        )
    assert IncomeItem.objects.count() == 3


def test_expired_income_is_not_counted(household, cast):
    IncomeItem.objects.create(
        member=household.head,
        type="wage",
        monthly_amount=Decimal("900"),
        period_start=dt.date(2019, 1, 1),
        period_end=dt.date(2020, 12, 31),
    )
    detail = selectors.household_detail(user=cast["clerk"], pk=household.pk)
    assert selectors.counted_summary(detail).counted_income == Decimal("0.00")


def test_absent_member_is_not_counted(cast, tree):
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data(id_number=HEAD_ID),
            member_data(
                "张二",
                "child",
                id_number=SPOUSE_ID,
                lives_with_household=False,
                absence_reason="prisoner",
            ),
        ],
    )
    detail = selectors.household_detail(user=cast["clerk"], pk=household.pk)
    assert selectors.counted_summary(detail).counted_size == 1


# --- Privacy --------------------------------------------------------------------------------


def test_lists_mask_and_reveal_is_logged(client, household, cast):
    client.force_login(cast["clerk"])
    page = client.get(reverse("beneficiaries:search")).content.decode()
    assert HEAD_ID not in page and HEAD_ID[:6] + "********" + HEAD_ID[14:] in page
    detail = client.get(reverse("beneficiaries:detail", args=[household.pk])).content.decode()
    assert HEAD_ID not in detail and "13800001234" not in detail
    assert "6228480000001234566" not in detail
    revealed = client.post(
        reverse("beneficiaries:reveal", args=[household.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert HEAD_ID in revealed and "13800001234" in revealed and "6228480000001234566" in revealed
    view = AuditEvent.objects.get(action="view")
    assert (view.actor, view.case_key) == (cast["clerk"], f"household:{household.pk}")


def test_village_worker_cannot_reveal_and_history_is_masked(client, household, cast):
    _update(cast["clerk"], household, household.version, phone="13900009999")
    client.force_login(cast["village_worker"])
    page = client.get(reverse("beneficiaries:detail", args=[household.pk])).content.decode()
    assert "13900009999" not in page and HEAD_ID not in page
    assert client.post(reverse("beneficiaries:reveal", args=[household.pk])).status_code == 403


def test_api_list_masks_and_retrieve_logs(client, household, cast):
    client.force_login(cast["township_reviewer"])
    listed = client.get("/api/v1/households/").json()["results"][0]
    assert listed["members"][0]["id_number"].count("*") == 8
    assert listed["phone"] != "13800001234"
    full = client.get(f"/api/v1/households/{household.pk}/").json()
    assert {m["id_number"] for m in full["members"]} == {HEAD_ID, SPOUSE_ID, CHILD_ID}
    assert AuditEvent.objects.filter(action="view", actor=cast["township_reviewer"]).exists()


# --- Scoping ----------------------------------------------------------------------------------


def test_other_township_can_neither_list_count_open_nor_edit(client, household, cast):
    client.force_login(cast["clerk_other"])
    page = client.get(reverse("beneficiaries:search"), {"id_number": HEAD_ID}).content.decode()
    assert household.number not in page
    assert client.get("/api/v1/households/").json()["count"] == 0
    assert client.get("/api/v1/households/", {"id_number": HEAD_ID}).json()["count"] == 0
    assert client.get(reverse("beneficiaries:detail", args=[household.pk])).status_code == 404
    assert client.get(reverse("beneficiaries:edit", args=[household.pk])).status_code == 404
    assert (
        client.put(
            f"/api/v1/households/{household.pk}/", {}, content_type="application/json"
        ).status_code
        == 404
    )
    assert selectors.household_list(user=cast["clerk_other"]).count() == 0


# --- Search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "found"),
    [
        ({"name": "张大"}, True),
        ({"name": "大山"}, True),  # any part of the name (issue 18)
        ({"name": "山大"}, False),
        ({"name": "山"}, True),
        ({"name": "张大山"}, True),
        ({"id_number": HEAD_ID}, True),
        ({"id_number": CHILD_ID.lower()}, True),
        # Encrypted at rest, found through a keyed hash: only the whole number matches.
        ({"id_number": HEAD_ID[:10]}, False),
        ({"number": "50010300000001"}, True),
        ({"phone": "13800001234"}, True),
        ({"phone": "13800001235"}, False),
        ({"region_code": "500103001001"}, True),
        ({"region_code": "500103001002"}, False),
        ({"residence_type": "rural"}, False),
    ],
)
def test_search(household, cast, params, found):
    assert selectors.household_list(user=cast["clerk"], **params).exists() is found


def test_name_search_reads_the_name_index_on_postgresql(household, cast):
    """Any part of a name is found through the GIN index over its characters and pairs, not
    by reading every member (2.5 million in a city)."""
    if connection.vendor != "postgresql":
        pytest.skip("the index is PostgreSQL's")
    for query in ("大山", "山", "张大山"):
        assert selectors.household_list(user=cast["city_admin"], name=query).exists()
        # With plain scans ruled out, only an index whose expression matches can answer.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            plan = name_contains(Member.objects.all(), query).explain()
        assert "member_name_grams_idx" in plan, plan


def _many(cast, tree, n, start=0):
    for i in range(start, start + n):
        make_household(
            cast["clerk"],
            tree.village,
            members=[
                member_data(f"赵{i}", id_number=make_id("19800101", seq=100 + i)),
                member_data("钱", "spouse", id_number=make_id("19810101", seq=100 + i)),
            ],
        )


def test_search_page_query_count_is_fixed(client, cast, tree, django_assert_num_queries):
    _many(cast, tree, 3)
    client.force_login(cast["clerk"])
    url = reverse("beneficiaries:search")
    # session, user, jurisdiction, the regions inside it, region dropdown, count, page of
    # households, inbox badge
    with django_assert_num_queries(8):
        client.get(url)
    _many(cast, tree, 22, start=3)
    with django_assert_num_queries(8):
        response = client.get(url)
    assert response.content.decode().count('href="/households/') >= 20


def test_a_long_search_counts_up_to_a_cap_and_says_more(client, cast, tree, monkeypatch):
    """A city-wide search for a surname matches tens of thousands: the count stops at the cap
    and the page says there are more and how to narrow the search."""
    monkeypatch.setattr(CappedPaginator, "cap", 2)
    _many(cast, tree, 3)
    client.force_login(cast["clerk"])
    page = client.get(reverse("beneficiaries:search") + "?name=赵").content.decode()
    assert "找到超过 2 户" in page
    assert (
        "共找到 1 户" in client.get(reverse("beneficiaries:search") + "?name=赵1").content.decode()
    )


def test_api_list_query_count_is_fixed(client, cast, tree, django_assert_num_queries):
    _many(cast, tree, 3)
    client.force_login(cast["clerk"])
    # session, user, jurisdiction, the regions inside it, count, page, members
    with django_assert_num_queries(7):
        client.get("/api/v1/households/")
    _many(cast, tree, 22, start=3)
    with django_assert_num_queries(7):
        assert len(client.get("/api/v1/households/").json()["results"]) == 25


# --- API writes -----------------------------------------------------------------------------


def test_api_create_and_update_with_version(client, cast, tree):
    client.force_login(cast["clerk"])
    body = {
        **HOUSEHOLD_FIELDS,
        "region_code": tree.village.code,
        "members": [member_data(id_number=HEAD_ID)],
    }
    created = client.post("/api/v1/households/", body, content_type="application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["members"][0]["id_number"] == HEAD_ID and data["number"]
    update = {"version": data["version"], "address": "新址"}
    response = client.patch(
        f"/api/v1/households/{data['id']}/", update, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["address"] == "新址"
    stale = client.patch(
        f"/api/v1/households/{data['id']}/", update, content_type="application/json"
    )
    assert stale.status_code == 409


def test_api_create_names_each_bad_field(client, cast, tree):
    client.force_login(cast["clerk"])
    bad_check = HEAD_ID[:17] + ("0" if HEAD_ID[17] != "0" else "1")
    body = {
        **HOUSEHOLD_FIELDS,
        "region_code": tree.wanzhou_village.code,
        "members": [member_data(id_number=bad_check)],
    }
    response = client.post("/api/v1/households/", body, content_type="application/json")
    assert response.status_code == 400
    errors = response.json()
    assert "region_code" in errors and "id_number" in errors["members"]["0"]
    assert "校验位错误" in errors["members"]["0"]["id_number"][0]


def test_masked_roles_cannot_uncover_ids_by_partial_search(household, cast):
    worker = cast["village_worker"]
    assert not selectors.household_list(user=worker, id_number=HEAD_ID[:10]).exists()
    assert not selectors.household_list(user=worker, phone="13800001234").exists()
    assert selectors.household_list(user=worker, id_number=HEAD_ID).exists()


def test_edit_page_shows_full_data_and_logs_it(client, household, cast):
    client.force_login(cast["clerk"])
    page = client.get(reverse("beneficiaries:edit", args=[household.pk])).content.decode()
    assert HEAD_ID in page
    assert AuditEvent.objects.filter(action="view", actor=cast["clerk"]).count() == 1


def test_person_check_tells_sex_birth_and_where(client, household, cast):
    client.force_login(cast["clerk"])
    url = reverse("beneficiaries:person_check")
    page = client.post(url, {"members-0-id_number": CHILD_ID}).content.decode()
    assert "2010-03-03" in page and household.number in page
    wrong = CHILD_ID[:17] + ("1" if CHILD_ID[17] != "1" else "2")
    bad = client.post(url, {"members-0-id_number": wrong}).content.decode()
    assert "校验位错误" in bad
    client.force_login(cast["village_worker"])
    assert client.post(url, {"members-0-id_number": CHILD_ID}).status_code == 403


def test_duplicate_report_finds_a_mistyped_digit(client, cast, tree):
    right = make_id("19900101", seq=2)
    typo = make_id("19900101", seq=12)  # one digit of the sequence wrong, check digit recomputed
    make_household(cast["clerk"], tree.village, members=[member_data("周敏", id_number=right)])
    make_household(cast["clerk"], tree.other_village, members=[member_data("周敏", id_number=typo)])
    tasks.duplicates_find()  # the nightly job
    client.force_login(cast["city_admin"])
    page = client.get(reverse("beneficiaries:duplicates")).content.decode()
    assert right in page and typo in page


def test_duplicate_report(client, cast, tree):
    make_household(
        cast["clerk"],
        tree.village,
        members=[member_data("孙丽", id_number=make_id("19900101", seq=2))],
    )
    make_household(
        cast["clerk"],
        tree.other_village,
        members=[member_data("孙丽", id_number=make_id("19900101", seq=4))],
    )
    tasks.duplicates_find()  # the nightly job
    client.force_login(cast["city_admin"])
    page = client.get(reverse("beneficiaries:duplicates")).content.decode()
    assert page.count("孙丽") >= 1 and "1990-01-01" in page
    assert AuditEvent.objects.filter(action="view", actor=cast["city_admin"]).exists()


# --- The edit page, as a browser posts it -------------------------------------------------


def _edit_data(household, version, *, address=None, remove=None, reason=""):
    data = {
        "region": household.region_id,
        "version": version,
        "address": address or household.address,
        "residence_type": household.residence_type,
        "phone": household.phone,
    }
    members = list(household.members.filter(is_current=True).order_by("id"))
    data.update(
        {
            "members-TOTAL_FORMS": len(members),
            "members-INITIAL_FORMS": len(members),
            "members-MIN_NUM_FORMS": 1,
            "members-MAX_NUM_FORMS": 1000,
        }
    )
    for i, member in enumerate(members):
        prefix = f"members-{i}-"
        data[prefix + "id"] = member.pk
        for field in services.MEMBER_FIELDS:
            value = getattr(member, field)
            if isinstance(value, bool):
                if value:
                    data[prefix + field] = "on"
            else:
                data[prefix + field] = "" if value is None else value
        if member == remove:
            data[prefix + "DELETE"] = "on"
            data[prefix + "leave_reason"] = reason
    return data


def test_edit_page_removal_needs_a_reason(client, household, cast):
    client.force_login(cast["clerk"])
    url = reverse("beneficiaries:edit", args=[household.pk])
    child = household.members.get(id_number_digest=CHILD_ID)
    page = client.post(url, _edit_data(household, household.version, remove=child))
    assert page.status_code == 200 and "张小明" in page.content.decode()
    assert Member.objects.get(pk=child.pk).is_current
    response = client.post(
        url, _edit_data(household, household.version, remove=child, reason="died")
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert (child.is_current, child.leave_reason) == (False, "died")
    assert household.members.filter(is_current=True).count() == 2


def test_edit_page_second_save_gets_the_conflict_message(client, household, cast):
    version = household.version
    client.force_login(cast["clerk"])
    url = reverse("beneficiaries:edit", args=[household.pk])
    assert client.post(url, _edit_data(household, version, address="一号")).status_code == 302
    client.force_login(cast["township_reviewer"])
    page = client.post(url, _edit_data(household, version, address="二号")).content.decode()
    assert "修改了此户信息" in page and "clerk" in page
    household.refresh_from_db()
    assert household.address == "一号"


def test_api_patch_with_partial_member_keeps_the_rest_and_logs(client, cast, tree):
    household = make_household(
        cast["clerk"],
        tree.village,
        members=[
            member_data(
                id_number=HEAD_ID,
                disability_type="physical",
                disability_grade=2,
                can_eat=False,
                can_dress=False,
                can_bathe=False,
                can_toilet=False,
            ),
            member_data(
                "李四",
                "spouse",
                id_number=SPOUSE_ID,
                lives_with_household=False,
                absence_reason="prisoner",
            ),
        ],
    )
    head, spouse = household.head, household.members.get(id_number_digest=SPOUSE_ID)
    client.force_login(cast["clerk"])
    body = {
        "version": household.version,
        "members": [{"id": head.pk, "name": "张大山改"}, {"id": spouse.pk, "hukou_local": False}],
    }
    response = client.patch(
        f"/api/v1/households/{household.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    head.refresh_from_db()
    spouse.refresh_from_db()
    assert (head.name, head.self_care, head.disability_grade) == ("张大山改", "none", 2)
    assert (spouse.absence_reason, spouse.hukou_local) == ("prisoner", False)
    assert AuditEvent.objects.filter(action="view", actor=cast["clerk"]).exists()
    # Leaving a member out needs a reason for them.
    household.refresh_from_db()
    body = {"version": household.version, "members": [{"id": head.pk}]}
    response = client.patch(
        f"/api/v1/households/{household.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 400
    body["removed_members"] = [{"id": spouse.pk, "reason": "died"}]
    response = client.patch(
        f"/api/v1/households/{household.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 200
    spouse.refresh_from_db()
    assert (spouse.is_current, spouse.leave_reason) == (False, "died")
