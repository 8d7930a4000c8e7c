"""Writes of a household's economics (DESIGN.md §2): its members' income, its property and
its rigid spending, replaced together from the economics form or the API."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.exceptions import ValidationFailed

from .models import Asset, Expenditure, Household, HouseholdEvent, IncomeItem
from .services import _lock_for_edit, household_event

ECONOMICS_LABELS = (gettext_lazy("Income"), gettext_lazy("Property"), gettext_lazy("Spending"))


@transaction.atomic
def household_economics_update(
    *,
    actor: User,
    household: Household,
    expected_version: int,
    incomes: list[dict],
    assets: list[dict],
    expenditures: list[dict],
) -> Household:
    """Replace the household's income items, assets and spending with the lists given (each
    item with an ``id`` is updated, without one created; items left out are deleted)."""
    household = _lock_for_edit(actor, household, expected_version)
    member_ids = set(household.members.filter(is_current=True).values_list("pk", flat=True))
    problems = [
        (f"incomes.{i}.member", _("Choose a member of this household."))
        for i, data in enumerate(incomes)
        if data["member"].pk not in member_ids
    ]
    for prefix, rows, amount_field in (
        ("incomes", incomes, "monthly_amount"),
        ("assets", assets, "value"),
        ("expenditures", expenditures, "amount_12m"),
    ):
        problems += [
            (f"{prefix}.{i}.{amount_field}", _("An amount cannot be negative."))
            for i, data in enumerate(rows)
            if data.get(amount_field, 0) < 0
        ]
    if problems:
        raise ValidationFailed(problems)
    changed = [
        _replace(
            IncomeItem.objects.filter(member__household=household, member__is_current=True),
            incomes,
            actor,
        ),
        _replace(Asset.objects.filter(household=household), assets, actor, household=household),
        _replace(
            Expenditure.objects.filter(household=household),
            expenditures,
            actor,
            household=household,
        ),
    ]
    household.version += 1
    household._history_user = actor
    household.save(update_fields=["version", "updated_at"])
    what = [str(label) for label, moved in zip(ECONOMICS_LABELS, changed, strict=True) if moved]
    if what:
        household_event(household, HouseholdEvent.Kind.ECONOMICS, None, "、".join(what))
    return household


def _replace(existing_qs, rows: list[dict], actor: User, **parent) -> bool:
    """Make the rows so; whether anything was added, changed or deleted."""
    existing = {obj.pk: obj for obj in existing_qs}
    keep = {row["id"] for row in rows if row.get("id")}
    touched = False
    for pk, obj in existing.items():
        if pk not in keep:
            obj._history_user = actor
            obj.delete()
            touched = True
    for row in rows:
        values = {k: v for k, v in row.items() if k != "id"}
        obj = existing.get(row.get("id")) or existing_qs.model(**parent)
        changed = [k for k, v in values.items() if getattr(obj, k, None) != v]
        for k in changed:
            setattr(obj, k, values[k])
        if obj.pk is None or changed:
            obj._history_user = actor
            obj.save()
            touched = True
    return touched
