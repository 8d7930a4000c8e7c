"""The region tree of Chongqing: the city, its 40 district-level units with real names and
GB/T 2260 codes, and generated (demo) townships and villages under each.

District codes are python-stdnum's GB/T 2260 table (``stdnum/cn/loc.dat``) as of its 2.2
release; where that table records a change after the source article (2018), it is followed
and the unit carries a note. Township and village names and counts are generated
deterministically from the district code, sized like the real city: 1,030 townships (the
article's count) and about 11,000 villages, and are marked as demo data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CITY_CODE = "500000000000"
CITY_NAME = "重庆市"
TOWNSHIP_TOTAL = 1030


@dataclass(frozen=True)
class DistrictSpec:
    code6: str
    name: str
    townships: int  # approximate real count, scaled so the city totals TOWNSHIP_TOTAL
    urban: bool  # mostly subdistricts (街道) rather than towns and xiang
    active: bool = True
    note: str = ""


_ENDED_2025 = "GB/T 2260 表记载该代码于2025年停用(同年两江新区列为500157),保留以承载历史案件"

# 26 districts, 8 counties and 4 autonomous counties (the 38 of 2017), plus the two
# administrative zones the article counts among its 40 区县.
DISTRICTS: list[DistrictSpec] = [
    DistrictSpec("500101", "万州区", 52, False),
    DistrictSpec("500102", "涪陵区", 27, False),
    DistrictSpec("500103", "渝中区", 11, True),
    DistrictSpec("500104", "大渡口区", 8, True),
    DistrictSpec("500105", "江北区", 12, True, active=False, note=_ENDED_2025),
    DistrictSpec("500106", "沙坪坝区", 26, True),
    DistrictSpec("500107", "九龙坡区", 19, True),
    DistrictSpec("500108", "南岸区", 15, True),
    DistrictSpec("500109", "北碚区", 17, True),
    DistrictSpec("500110", "綦江区", 21, False, note="GB/T 2260: 2011年由原万盛区代码改为綦江区"),
    DistrictSpec("500111", "大足区", 27, False, note="GB/T 2260: 2011年由原双桥区代码改为大足区"),
    DistrictSpec("500112", "渝北区", 30, True, active=False, note=_ENDED_2025),
    DistrictSpec("500113", "巴南区", 23, True),
    DistrictSpec("500114", "黔江区", 30, False),
    DistrictSpec("500115", "长寿区", 19, False),
    DistrictSpec("500116", "江津区", 30, False),
    DistrictSpec("500117", "合川区", 30, False),
    DistrictSpec("500118", "永川区", 23, False),
    DistrictSpec("500119", "南川区", 34, False),
    DistrictSpec("500120", "璧山区", 15, False),
    DistrictSpec("500151", "铜梁区", 28, False),
    DistrictSpec("500152", "潼南区", 22, False),
    DistrictSpec("500153", "荣昌区", 21, False),
    DistrictSpec("500154", "开州区", 40, False),
    DistrictSpec("500155", "梁平区", 33, False),
    DistrictSpec("500156", "武隆区", 26, False),
    DistrictSpec("500229", "城口县", 25, False),
    DistrictSpec("500230", "丰都县", 30, False),
    DistrictSpec("500231", "垫江县", 26, False),
    DistrictSpec("500233", "忠县", 29, False),
    DistrictSpec("500235", "云阳县", 42, False),
    DistrictSpec("500236", "奉节县", 33, False),
    DistrictSpec("500237", "巫山县", 26, False),
    DistrictSpec("500238", "巫溪县", 32, False),
    DistrictSpec("500240", "石柱土家族自治县", 33, False),
    DistrictSpec("500241", "秀山土家族苗族自治县", 27, False),
    DistrictSpec("500242", "酉阳土家族苗族自治县", 39, False),
    DistrictSpec("500243", "彭水苗族土家族自治县", 39, False),
    DistrictSpec("500157", "两江新区", 10, True, note="GB/T 2260: 2025年起列为500157"),
    DistrictSpec(
        "500190",
        "万盛经开区",
        10,
        False,
        note="管理区,GB/T 2260 无代码;500190 为本系统内部代码",
    ),
]

_SYLLABLES = (
    "安宝白柏北碧昌长城川大德东丰凤福高古观广桂海河和红虎华环黄金锦九龙鹿马茂梅民明"
    "南盘平坪桥青清庆仁瑞三沙山尚石双水顺松太桃天铁通桐文五西溪霞祥新星兴杏阳杨燕"
    "永玉元园云枣泽正中竹紫"
)


def _name(rng: random.Random, taken: set[str], suffix: str) -> str:
    while True:
        name = "".join(rng.choice(_SYLLABLES) for _ in range(2)) + suffix
        if name not in taken:
            taken.add(name)
            return name


def township_counts() -> dict[str, int]:
    """Each district's township count, scaled so the city has exactly TOWNSHIP_TOTAL."""
    counts = {d.code6: d.townships for d in DISTRICTS}
    gap = TOWNSHIP_TOTAL - sum(counts.values())
    largest = sorted(counts, key=lambda code: -counts[code])
    for i in range(abs(gap)):
        counts[largest[i % len(largest)]] += 1 if gap > 0 else -1
    return counts


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: str
    parent_code: str | None
    is_demo: bool = False
    is_active: bool = True
    note: str = ""


def region_rows() -> list[RegionRow]:
    """The whole tree, parents before children, deterministically."""
    rows = [RegionRow(CITY_CODE, CITY_NAME, "city", None)]
    counts = township_counts()
    # Streets are numbered 001–099, towns 100–199 and xiang 200–299 within a district.
    if max(counts.values()) >= 100:
        raise ValueError("township numbering allows fewer than 100 townships per district")
    for district in DISTRICTS:
        district_code = district.code6 + "000000"
        rows.append(
            RegionRow(
                district_code,
                district.name,
                "district",
                CITY_CODE,
                is_active=district.active,
                note=district.note,
            )
        )
        rng = random.Random(int(district.code6))
        taken: set[str] = set()
        n = counts[district.code6]
        streets = n if district.urban else max(1, n // 5)
        for i in range(n):
            if i < streets:
                number, suffix, village_suffix = 1 + i, "街道", "社区"
            elif i % 4:
                number, suffix, village_suffix = 100 + i, "镇", "村"
            else:
                number, suffix, village_suffix = 200 + i, "乡", "村"
            township_code = f"{district.code6}{number:03d}000"
            rows.append(
                RegionRow(
                    township_code,
                    _name(rng, taken, suffix),
                    "township",
                    district_code,
                    is_demo=True,
                    is_active=district.active,
                )
            )
            village_names: set[str] = set()
            for j in range(rng.randint(6, 15)):
                rows.append(
                    RegionRow(
                        f"{township_code[:9]}{j + 1 if village_suffix == '社区' else 200 + j:03d}",
                        _name(rng, village_names, village_suffix),
                        "village",
                        township_code,
                        is_demo=True,
                        is_active=district.active,
                    )
                )
    return rows
