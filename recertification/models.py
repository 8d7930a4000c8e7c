"""Dynamic management (动态管理): periodic reviews (复核) of entitlements and reviews opened by a
change the household reported."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from regions.models import Region


class Review(models.Model):
    """A periodic review (复核) of an entitlement, or one opened when the household reports a
    change (家庭主动申报). Casework like an application: a township, a deadline, a decision."""

    class Kind(models.TextChoices):
        PERIODIC = "periodic", _("Periodic review")
        REPORTED = "reported", _("Change reported by the household")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        NOTICED = "noticed", _("Termination notice")
        DISTRICT = "district", _("Termination awaiting the district")
        DECIDED = "decided", _("Decided")

    class Outcome(models.TextChoices):
        CONTINUE = "continue", _("Continue unchanged")
        ADJUST = "adjust", _("Adjust the amount or class")
        SUSPEND = "suspend", _("Suspend")
        RESUME = "resume", _("Resume payment")
        PHASE_OUT = "phase_out", _("Phase out: a member found work (渐退)")
        TERMINATE = "terminate", _("Terminate (after a public notice)")

    entitlement = models.ForeignKey(
        "beneficiaries.Entitlement",
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("entitlement"),
    )
    township = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("township")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    opened_at = models.DateTimeField(_("opened at"))
    due = models.DateField(_("due"))
    reported_change = models.TextField(_("change reported"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    assessment = models.ForeignKey(
        "eligibility.Assessment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assessment"),
    )
    visited_on = models.DateField(_("home visit or declaration on"), null=True, blank=True)
    findings = models.TextField(_("what the visit or declaration showed"), blank=True)
    visit_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("visit recorded by"),
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    new_amount = models.DecimalField(
        _("new monthly amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    new_class = models.CharField(_("new class"), max_length=1, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["due", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entitlement"],
                condition=models.Q(status__in=["open", "noticed", "district"]),
                name="review_one_open_per_entitlement",
            ),
            models.CheckConstraint(
                condition=models.Q(new_amount__isnull=True) | models.Q(new_amount__gte=0),
                name="review_amount_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["township", "status", "due"], name="review_queue_idx"),
            # The district's and the city's queues in due order, and their counts, from the
            # index alone.
            models.Index(
                fields=["status", "due", "id"],
                include=["township", "entitlement"],
                name="review_status_due_idx",
            ),
            # The API's list (every state) in due order.
            models.Index(fields=["due", "id"], include=["township"], name="review_due_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.entitlement.household} {self.due}"

    @property
    def audit_region_code(self) -> str:
        return self.entitlement.household.region.code

    @property
    def audit_case_key(self) -> str:
        return f"household:{self.entitlement.household_id}"
