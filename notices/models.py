"""公示 and 异议: public notices and the objections anyone may file against them.

A notice copies, when it is posted, the few fields the public may see (village, masked name,
household size, programme, amount), so nothing private can reach the public pages by a later
join. The case a notice is about (an application, or a periodic review proposing a
termination) is referenced by a lazy foreign key: this app sits below both and never imports
their models."""

import re
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from beneficiaries.models import Programme
from core.fields import EncryptedCharField


class Notice(models.Model):
    """A public notice (公示): what the public pages show, copied when the notice is posted
    so nothing private can ever reach them by a later join."""

    class Kind(models.TextChoices):
        APPROVAL = "approval", _("Pre-approval notice")
        TERMINATION = "termination", _("Termination notice")

    class Status(models.TextChoices):
        OPEN = "open", _("Posted")
        CLOSED = "closed", _("Period ended")
        WITHDRAWN = "withdrawn", _("Taken down for re-investigation")

    application = models.ForeignKey(
        "applications.Application",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("case"),
    )
    review = models.ForeignKey(
        "recertification.Review",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name=_("review"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    starts_on = models.DateField(_("posted on"))
    ends_on = models.DateField(_("last day"))
    village_code = models.CharField(_("village code"), max_length=12, db_index=True)
    masked_name = models.CharField(_("name (masked)"), max_length=16)
    household_size = models.PositiveSmallIntegerField(_("household size"))
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    amount = models.DecimalField(_("monthly amount"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-starts_on", "id"]
        # The notices up now, in village order: a small part of a city's years of notices.
        indexes = [
            models.Index(
                fields=["village_code", "id"],
                condition=models.Q(status="open"),
                name="notice_open_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="notice_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(application__isnull=False, review__isnull=True)
                | models.Q(application__isnull=True, review__isnull=False),
                name="notice_for_an_application_or_a_review",
            ),
        ]

    def __str__(self):
        return f"{self.masked_name} {self.get_kind_display()}"


# An objection's reference: given to whoever filed it, to follow it up (no login). Random, so
# that one reference does not lead to the next.
OBJECTION_REFERENCE = re.compile(r"YY[2-9A-HJ-NP-Z]{8}")
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_objection_reference() -> str:
    return "YY" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class Objection(models.Model):
    """An objection filed by anyone during a notice (no login). It lands on the township
    reviewer's queue; while it is open the case cannot be approved."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        REINVESTIGATING = "reinvestigating", _("Being re-investigated")
        RESOLVED = "resolved", _("Resolved")

    notice = models.ForeignKey(
        Notice, on_delete=models.CASCADE, related_name="objections", verbose_name=_("notice")
    )
    application = models.ForeignKey(
        "applications.Application",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="objections",
        verbose_name=_("case"),
    )
    reference = models.CharField(
        _("reference"), max_length=10, unique=True, null=True, blank=True, editable=False
    )
    text = models.TextField(_("objection"))
    name = models.CharField(_("name (optional)"), max_length=64, blank=True)
    contact = EncryptedCharField(_("contact (optional)"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    resolution = models.TextField(_("resolution"), blank=True)
    # Taken up: the case went back to investigation over it (not dismissed as unfounded).
    reinvestigated = models.BooleanField(_("taken up (case re-investigated)"), default=False)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["received_at", "id"]

    def __str__(self):
        return self.text[:40]

    @property
    def audit_region_code(self) -> str:
        return self.notice.village_code


class StandingRow(models.Model):
    """One line of the public standing list of 低保 households now receiving: the public
    fields only, copied (as a notice copies its own) so the public pages read one narrow table
    in village order instead of joining households, members and regions for every visitor.
    Kept by ``services.standing_refresh``: at once for the village whose entitlement changed,
    and nightly for villages whose households were edited."""

    entitlement = models.OneToOneField(
        "beneficiaries.Entitlement",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("entitlement"),
    )
    village_code = models.CharField(_("village code"), max_length=12)
    township = models.CharField(_("township"), max_length=64)
    village = models.CharField(_("village/community"), max_length=64)
    masked_name = models.CharField(_("name (masked)"), max_length=16)
    household_size = models.PositiveSmallIntegerField(_("household size"))
    programme = models.CharField(_("programme"), max_length=16, choices=Programme.choices)
    amount = models.DecimalField(_("monthly amount"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("public standing-list row")
        verbose_name_plural = _("public standing-list rows")
        indexes = [models.Index(fields=["village_code", "entitlement"], name="standing_order")]

    def __str__(self):
        return f"{self.village} {self.masked_name}"


class StandingTally(models.Model):
    """How many standing-list rows a village has: a page number becomes a village and a short
    offset inside it, so page 5,000 of the city costs what page 1 does."""

    village_code = models.CharField(_("village code"), max_length=12, primary_key=True)
    households = models.PositiveIntegerField(_("households"))

    class Meta:
        verbose_name = _("public standing-list tally")
        verbose_name_plural = _("public standing-list tallies")

    def __str__(self):
        return f"{self.village_code}: {self.households}"
