"""Demo data: the region tree, the working-day calendar and one user per role in a
realistic place. Idempotent. Demo passwords live here and in the README only."""

from django.db import transaction

from accounts.models import Role
from accounts.services import user_ensure
from core.services import calendar_seed_from_package
from regions.models import Region
from regions.seed import CITY_CODE
from regions.services import regions_seed

DEMO_PASSWORD = "Chongqing-demo-2026"  # noqa: S105 (demo data only, shown in README)

YUZHONG = "500103000000"  # 渝中区
WANZHOU = "500101000000"  # 万州区, "another district" for clerk_other


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
        township.office_phone = "023-6300 0000"
        township.save(update_fields=["office_phone"])
    cast = [
        ("clerk", Role.CLERK, township, "王窗口"),
        ("township_reviewer", Role.TOWNSHIP_REVIEWER, township, "李审核"),
        ("district_approver", Role.DISTRICT_APPROVER, yuzhong, "张审批"),
        ("city_admin", Role.CITY_ADMIN, city, "陈管理"),
        ("auditor", Role.AUDITOR, city, "赵审计"),
        ("village_worker", Role.VILLAGE_WORKER, village, "刘救助"),
        ("clerk_other", Role.CLERK, other_township, "周窗口"),
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
        result.append((user.username, user.get_role_display(), str(user.jurisdiction), created))
    return result
