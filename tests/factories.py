import factory

from accounts.models import Role, User
from regions.models import Region

TEST_PASSWORD = "correct-horse-battery-9"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"测试区划{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    role = Role.CLERK
    password = factory.django.Password(TEST_PASSWORD)


def make_id(birth: str = "19800101", area: str = "500103", seq: int = 1) -> str:
    """A valid 18-character ID number: area code, birth date YYYYMMDD, 3-digit sequence (odd:
    male, even: female) and the check digit."""
    from stdnum.cn import ric

    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def member_data(name="张三", relation="head", **overrides) -> dict:
    data = {
        "name": name,
        "id_number": make_id(),
        "relation": relation,
        "lives_with_household": True,
        "absence_reason": "",
        "hukou_local": True,
        "labour_capacity": "",  # derived from age and disability
        "disability_type": "",
        "disability_grade": None,
        "serious_illness": False,
        "schooling": "not_in_school",
        "employment": "",
        "can_eat": True,
        "can_dress": True,
        "can_transfer": True,
        "can_toilet": True,
        "can_walk_indoors": True,
        "can_bathe": True,
    }
    data.update(overrides)
    return data


HOUSEHOLD_FIELDS = {
    "address": "渝中区解放碑街道民族路1号",
    "residence_type": "urban",
    "phone": "13800001234",
    "bank_name": "重庆农村商业银行",
    "bank_account_name": "张三",
    "bank_account_number": "6228480000001234566",
    "poverty_registered": False,
    "marginal": False,
    "separately_registered": False,
    "separate_registration_reason": "",
}


def make_household(actor, region, members=None, **fields):
    from beneficiaries.services import household_create

    return household_create(
        actor=actor,
        region=region,
        fields={**HOUSEHOLD_FIELDS, **fields},
        members=members or [member_data()],
    )
