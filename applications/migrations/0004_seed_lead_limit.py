import datetime as dt
from decimal import Decimal

from django.db import migrations


def seed(apps, schema_editor):
    apps.get_model("eligibility", "PolicyValue").objects.get_or_create(
        kind="lead_contact_workdays", residence="", district_code="",
        effective_from=dt.date(2017, 1, 1),
        defaults={"value": Decimal("3"), "is_assumption": True,
                  "source": "假设值:无文件依据,须由市级管理员设定(急难对象3个工作日内联系)"})


class Migration(migrations.Migration):
    dependencies = [("applications", "0003_lead"), ("eligibility", "0005_lead_contact_workdays")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
