import pytest
from django.db import transaction

from regions.models import Region
from regions.seed import DISTRICTS, TOWNSHIP_TOTAL
from regions.services import regions_seed


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The full tree once for this module, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        regions_seed()
        yield
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_counts(seeded):
    assert Region.objects.filter(level="city").count() == 1
    assert Region.objects.filter(level="district").count() == 40
    assert Region.objects.filter(level="township").count() == TOWNSHIP_TOTAL == 1030
    villages = Region.objects.filter(level="village").count()
    assert 10_000 <= villages <= 12_000


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("500103000000", "渝中区"),
        ("500101000000", "万州区"),
        ("500110000000", "綦江区"),  # GB/T 2260 code moved from 万盛区 in 2011
        ("500154000000", "开州区"),
        ("500243000000", "彭水苗族土家族自治县"),
        ("500157000000", "两江新区"),  # listed from 2025 in the table
    ],
)
def test_real_codes(seeded, code, name):
    assert Region.objects.get(code=code).name == name


def test_district_codes_match_stdnum_table(seeded):
    """Every district-level code except the internal one for 万盛经开区 is in GB/T 2260 as
    python-stdnum ships it, under the same name."""
    from stdnum import numdb

    table = numdb.get("cn/loc")
    for spec in DISTRICTS:
        info = {k: v for _, props in table.info(spec.code6) for k, v in props.items()}
        if spec.name == "万盛经开区":
            assert spec.code6 not in ("500110",) and "万盛经开区" not in info.get("county", "")
            continue
        assert spec.name in info["county"], (spec.code6, spec.name, info)


def test_tree_is_consistent(seeded):
    for region in Region.objects.exclude(level="city").select_related("parent").iterator():
        assert region.code.startswith(region.parent.prefix), region.code
        assert len(region.code) == 12 and region.code.isdigit()
    assert not Region.objects.filter(level__in=["township", "village"], is_demo=False).exists()
    assert not Region.objects.filter(level__in=["city", "district"], is_demo=True).exists()


def test_idempotent(seeded):
    before = list(Region.objects.values_list("code", "name", "parent_id").order_by("code"))
    assert sum(regions_seed().values()) == 0
    after = list(Region.objects.values_list("code", "name", "parent_id").order_by("code"))
    assert before == after


def test_deterministic():
    from regions.seed import region_rows

    assert region_rows() == region_rows()


def test_prefix_and_contains(seeded):
    city = Region.objects.get(level="city")
    yuzhong = Region.objects.get(code="500103000000")
    township = yuzhong.children.first()
    village = township.children.first()
    assert (city.prefix, yuzhong.prefix, township.prefix, village.prefix) == (
        "50",
        "500103",
        township.code[:9],
        village.code,
    )
    assert city.contains(village) and yuzhong.contains(village) and township.contains(village)
    assert not Region.objects.get(code="500101000000").contains(village)
