"""Who gets what (DESIGN.md §7): an entitlement per household and programme, and its
timeline of changes."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .household import Household, Member


class Programme(models.TextChoices):
    """The programmes decided by civil affairs (the others are referred to departments)."""

    DIBAO = "dibao", _("Minimum living allowance (低保)")
    TEKUN = "tekun", _("Support for persons in extreme poverty (特困)")
    TEMPORARY = "temporary", _("Temporary assistance (临时救助)")
    EXPENDITURE = "expenditure", _("Rigid-expenditure hardship (支出型贫困)")


# What the components of an amount are called (the codes come from the eligibility rules).
COMPONENT_LABELS = {
    "dibao": _("低保"),
    "expenditure": _("支出型"),
    "tekun_basic": _("特困 basic living"),
    "tekun_nursing": _("特困 nursing subsidy"),
    "temporary": _("临时救助"),
    "decided": _("amount decided"),
}


# The changes that decide what a month pays (class and review-date changes do not).
PAYMENT_KINDS = ("amount", "status")


class Entitlement(models.Model):
    """Who gets what (DESIGN.md §7): a household's approved monthly assistance under one
    programme, with the components it was computed from, its class and its next review.
    At most one live (active or suspended) entitlement per household and programme, or per
    member and programme for 单人保."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        TERMINATED = "terminated", _("Terminated")

    class Klass(models.TextChoices):
        A = "A", _("A: no member able to work, stable (yearly review)")
        B = "B", _("B: stable income sources (half-yearly review)")
        C = "C", _("C: able to work, irregular income (quarterly review)")

    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="entitlements",
        verbose_name=_("household"),
    )
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="single_entitlements",
        verbose_name=_("for one member alone (单人保)"),
    )
    monthly_amount = models.DecimalField(_("monthly amount"), max_digits=10, decimal_places=2)
    components = models.JSONField(_("components"), default=list, blank=True)
    klass = models.CharField(_("class"), max_length=1, choices=Klass.choices)
    start_month = models.DateField(_("paid from (month)"))
    end_month = models.DateField(_("paid until (month)"), null=True, blank=True)
    next_review = models.DateField(_("next review"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    source = models.CharField(
        _("approved on application"),
        max_length=24,
        help_text=_("The application number that approved it."),
    )
    approved_at = models.DateTimeField(_("approved at"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    class_overridden = models.BooleanField(
        _("class set by a reviewer"),
        default=False,
        help_text=_("The nightly derivation leaves an overridden class alone."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("entitlement")
        verbose_name_plural = _("entitlements")
        ordering = ["-start_month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "programme"],
                condition=Q(status__in=["active", "suspended"], member__isnull=True),
                name="entitlement_one_live_per_programme",
            ),
            # 单人保: one live entitlement per member and programme (several members of one
            # family may each be helped alone; ``selectors.overlapping_entitlements`` keeps a
            # household's own 低保 and its members' apart).
            models.UniqueConstraint(
                fields=["member", "programme"],
                condition=Q(status__in=["active", "suspended"], member__isnull=False),
                name="entitlement_one_live_per_member",
            ),
            models.CheckConstraint(
                condition=Q(monthly_amount__gte=0), name="entitlement_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(start_month__day=1), name="entitlement_starts_on_first_of_month"
            ),
            models.CheckConstraint(
                condition=Q(end_month__isnull=True) | Q(end_month__gte=models.F("start_month")),
                name="entitlement_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_review"], name="entitlement_review_idx")]

    def __str__(self):
        return f"{self.household} {self.get_programme_display()} {self.monthly_amount}"

    def amount_for(self, month) -> Decimal | None:
        """The monthly amount payable for ``month`` (a first of month); None when nothing is
        payable (before the start, after the end, or suspended from that month)."""
        return self.amount_in(month, self.changes.filter(kind__in=PAYMENT_KINDS))

    def amount_in(self, month, changes) -> Decimal | None:
        """``amount_for`` over a timeline already loaded (``changes``: this entitlement's
        amount and status changes, in any order), for callers that look at many months or
        entitlements at once. The payroll's SQL computes the same (a test holds them equal)."""
        if month < self.start_month or (self.end_month and month > self.end_month):
            return None
        changes = sorted(changes, key=lambda c: c.id)
        applying = sorted(
            (c for c in changes if c.effective_month <= month and not c.superseded),
            key=lambda c: (c.effective_month, c.id),
        )
        amount = None
        status = self.Status.ACTIVE
        for change in applying:
            if change.kind == EntitlementChange.Kind.AMOUNT:
                amount = Decimal(change.new_value)
            elif change.kind == EntitlementChange.Kind.STATUS:
                status = change.new_value
        if status != self.Status.ACTIVE:
            return None
        if amount is not None:
            return amount
        first = next((c for c in changes if c.kind == EntitlementChange.Kind.AMOUNT), None)
        return self._initial(first)

    def initial_amount(self) -> Decimal:
        """The amount approved (entitlements created before amounts were recorded as changes
        have it only as the first change's old value)."""
        return self._initial(
            self.changes.filter(kind=EntitlementChange.Kind.AMOUNT).order_by("id").first()
        )

    def _initial(self, first_amount_change) -> Decimal:
        if first_amount_change is not None and first_amount_change.old_value:
            return Decimal(first_amount_change.old_value)
        return self.monthly_amount

    @property
    def audit_region_code(self) -> str:
        return self.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.household_id}"


class EntitlementChange(models.Model):
    """The timeline of an entitlement: every change of class, amount or status, from which
    month it applies and why. The amount for a month is the latest amount change applying
    by that month (``Entitlement.amount_for``)."""

    class Kind(models.TextChoices):
        CLASS = "class", _("Class")
        AMOUNT = "amount", _("Amount")
        STATUS = "status", _("Status")
        REVIEW = "review", _("Review date")

    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.CASCADE, related_name="changes", verbose_name=_("entitlement")
    )
    kind = models.CharField(_("what changed"), max_length=8, choices=Kind.choices)
    effective_month = models.DateField(_("from month"))
    old_value = models.CharField(_("before"), max_length=32, blank=True)
    new_value = models.CharField(_("after"), max_length=32)
    cause = models.CharField(_("cause"), max_length=200)
    source = models.CharField(_("decided by"), max_length=32, blank=True)
    superseded = models.BooleanField(
        _("superseded"),
        default=False,
        help_text=_("A later decision from an earlier month replaced this one."),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
        help_text=_("Blank: the nightly job."),
    )

    class Meta:
        verbose_name = _("entitlement change")
        verbose_name_plural = _("entitlement changes")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_month__day=1), name="entitlement_change_month_start"
            )
        ]
        indexes = [
            models.Index(fields=["entitlement", "kind", "effective_month"], name="ent_change_idx")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.old_value} → {self.new_value}"
