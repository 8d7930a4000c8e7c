"""Materials each programme needs, the city-wide departments referrals go to, and the working-
day limits (policy data the city admin can change)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

COMMON = ["id_card", "hukou_book", "authorisation", "pledge"]
REQUIRED = {
    "dibao": [*COMMON, "income_proof"],
    "tekun": [*COMMON],
    "temporary": [*COMMON],
    "expenditure": [*COMMON, "income_proof", "medical_bills"],
}
DEPARTMENTS = {
    "medical": ("区县医疗保障局", ""),
    "education": ("区县教育委员会", ""),
    "housing": ("区县住房和城乡建设委员会", ""),
    "employment": ("区县人力资源和社会保障局", ""),
    "disaster": ("区县应急管理局", ""),
}
LIMITS = [
    ("process_workdays", "30", "民发〔2021〕57号:审核确认30个工作日", False),
    ("referral_workdays", "10", "假设值:无文件依据,须由市级管理员设定", True),
]


def seed(apps, schema_editor):
    MaterialRequirement = apps.get_model("applications", "MaterialRequirement")
    Department = apps.get_model("applications", "Department")
    PolicyValue = apps.get_model("eligibility", "PolicyValue")
    for programme, materials in REQUIRED.items():
        for material in materials:
            MaterialRequirement.objects.get_or_create(programme=programme, material=material)
    for kind, (name, phone) in DEPARTMENTS.items():
        Department.objects.get_or_create(kind=kind, district_code="",
                                         defaults={"name": name, "phone": phone})
    for kind, value, source, assumed in LIMITS:
        PolicyValue.objects.get_or_create(
            kind=kind, residence="", district_code="", effective_from=dt.date(2017, 1, 1),
            defaults={"value": Decimal(value), "source": source, "is_assumption": assumed})


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0001_initial"),
        ("eligibility", "0004_workday_limits"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
