"""Seed the policy figures of the source article (中国社会报 2018-10-10) and, where no source
gave a figure, clearly labelled assumptions the city must set (POLICY.md)."""

import datetime as dt
from decimal import Decimal

from django.db import migrations

ARTICLE = "中国社会报2018-10-10《重庆市困难群众救助工作》"
CQ_2013 = "重庆市最低生活保障条件认定办法(2013)"
ASSUMED = "假设值:无文件依据,须由市级管理员设定"

VALUES = [
    # kind, residence, value, effective from, source, assumed
    ("dibao_standard", "urban", "500", dt.date(2017, 1, 1), ARTICLE + ":2017年城市低保标准", False),
    ("dibao_standard", "rural", "350", dt.date(2017, 1, 1), ARTICLE + ":2017年农村低保标准", False),
    ("tekun_basic", "", "650", dt.date(2017, 4, 1), ARTICLE + ":2017年4月起特困基本生活标准", False),
    ("tekun_nursing_full", "", "200", dt.date(2017, 4, 1),
     ARTICLE + ":失能特困人员护理补贴(按完全丧失生活自理能力适用)", False),
    ("tekun_nursing_partial", "", "0", dt.date(2017, 4, 1), ASSUMED, True),
    ("marginal_multiple", "", "1.5", dt.date(2017, 1, 1), "低保边缘:人均收入低于低保标准1.5倍", False),
    ("deposit_months", "", "12", dt.date(2017, 1, 1), CQ_2013 + ":存款上限=人数×标准×12", False),
    ("purchase_months", "", "5", dt.date(2017, 1, 1), CQ_2013 + ":非必需消费上限=人数×标准×5", False),
    ("housing_area_limit", "", "39", dt.date(2017, 1, 1),
     ASSUMED + "(住房保障最低面积13平方米的3倍)", True),
    ("temporary_cap", "", "50000", dt.date(2017, 1, 1), ARTICLE + ":临时救助最高不超过5万元", False),
    ("township_temporary_limit", "", "1000", dt.date(2017, 1, 1), ASSUMED, True),
    ("dibao_minimum_payment", "", "0", dt.date(2017, 1, 1), ASSUMED + "(默认无最低发放额)", True),
    ("expenditure_share", "", "0.5", dt.date(2017, 1, 1), ASSUMED, True),
]

# 临时救助 multiples of the monthly 低保 standard by applicant class and hardship (assumed).
RATES = {
    "A": {"medical": "6", "disaster": "8", "education": "4", "other": "3"},
    "B": {"medical": "4", "disaster": "6", "education": "3", "other": "2"},
    "C": {"medical": "3", "disaster": "4", "education": "2", "other": "1.5"},
    "D": {"medical": "2", "disaster": "3", "education": "1", "other": "1"},
}


def seed(apps, schema_editor):
    PolicyValue = apps.get_model("eligibility", "PolicyValue")
    TemporaryRate = apps.get_model("eligibility", "TemporaryRate")
    for kind, residence, value, start, source, assumed in VALUES:
        PolicyValue.objects.get_or_create(
            kind=kind, residence=residence, district_code="", effective_from=start,
            defaults={"value": Decimal(value), "source": source, "is_assumption": assumed})
    for applicant_class, row in RATES.items():
        for hardship, multiple in row.items():
            TemporaryRate.objects.get_or_create(
                applicant_class=applicant_class, hardship=hardship,
                effective_from=dt.date(2017, 1, 1),
                defaults={"multiple": Decimal(multiple), "is_assumption": True,
                          "source": ASSUMED + ":临时救助分类分档标准表"})


class Migration(migrations.Migration):
    dependencies = [("eligibility", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
