import datetime as dt
from decimal import Decimal

from django.db import migrations

ROWS = [
    ("review_open_days", "30", "假设值:复核到期前30天开启复核任务,须由市级管理员设定", True),
    ("working_age_from", "16", "特困人员认定办法(2021):未满16周岁视为无劳动能力", False),
    ("retirement_age", "60", "特困人员认定办法(2021):60周岁以上视为无劳动能力", False),
]


def seed(apps, schema_editor):
    PolicyValue = apps.get_model("eligibility", "PolicyValue")
    for kind, value, source, assumed in ROWS:
        PolicyValue.objects.get_or_create(
            kind=kind,
            residence="",
            district_code="",
            effective_from=dt.date(2017, 1, 1),
            defaults={"value": Decimal(value), "source": source, "is_assumption": assumed},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0009_reviews"),
        ("eligibility", "0007_dynamic_limits"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
