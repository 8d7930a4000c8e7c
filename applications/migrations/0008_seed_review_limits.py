import datetime as dt
from decimal import Decimal

from django.db import migrations

# (kind, value, source, assumed)
ROWS = [
    ("investigation_workdays", "10", "最低生活保障审核审批办法(试行)(2012):10个工作日", False),
    ("appraisal_workdays", "5", "最低生活保障审核审批办法(试行)(2012):5个工作日", False),
    ("district_review_workdays", "5", "最低生活保障审核审批办法(试行)(2012):5个工作日", False),
    ("reinvestigation_workdays", "20", "最低生活保障审核审批办法(试行)(2012):异议20个工作日", False),
    ("letter_workdays", "3", "最低生活保障审核审批办法(试行)(2012):3个工作日书面通知", False),
    ("extended_process_workdays", "45", "民发〔2021〕57号:可延长至45个工作日", False),
    ("notice_days", "7", "最低生活保障审核审批办法(试行)(2012):公示7天", False),
    ("emergency_paperwork_workdays", "5", "临时救助:先行救助后5个工作日内补齐手续", False),
    ("tekun_township_workdays", "15", "特困人员认定办法(2021):乡镇15个工作日", False),
    ("tekun_district_workdays", "15", "特困人员认定办法(2021):县级15个工作日", False),
    ("appraisal_always", "0", "民发〔2021〕57号:有异议时民主评议", False),
    ("spot_check_share", "0.30", "最低生活保障审核审批办法(试行)(2012):入户抽查不低于30%", False),
    ("review_months_a", "12", "重庆市分类管理:A类每年复核(地方做法)", True),
    ("review_months_b", "6", "重庆市分类管理:B类每半年复核(地方做法)", True),
    ("review_months_c", "3", "重庆市分类管理:C类每季度复核(地方做法)", True),
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
        ("applications", "0007_review_and_approval"),
        ("eligibility", "0006_review_limits"),
    ]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
