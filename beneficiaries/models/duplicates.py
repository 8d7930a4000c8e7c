"""Likely duplicate people (疑似重复人员): pairs of current members who may be one person
entered twice, found every night over the whole city (``beneficiaries.duplicates``)."""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from .household import Member


class DuplicateCandidate(models.Model):
    """Two current members who may be the same person. Derived data: the nightly job replaces
    the whole set in one transaction, so a pair that no longer holds simply is not written
    again. Rows are written in name order, so the primary key is also the list's order."""

    class Kind(models.TextChoices):
        SAME_NAME_AND_BIRTH = "same_birth", _("Same name and birth date, different ID numbers")
        ID_TYPO = "id_typo", _("Same name, ID numbers one character apart")

    member_a = models.ForeignKey(
        Member, verbose_name=_("first record"), on_delete=models.CASCADE, related_name="+"
    )
    member_b = models.ForeignKey(
        Member, verbose_name=_("second record"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("why listed"), max_length=16, choices=Kind.choices)
    found_at = models.DateTimeField(_("found at"))

    class Meta:
        verbose_name = _("likely duplicate")
        verbose_name_plural = _("likely duplicates")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "member_a", "member_b"], name="duplicate_candidate_once"
            ),
            # One row per pair, not one per direction.
            models.CheckConstraint(
                condition=Q(member_a__lt=F("member_b")), name="duplicate_candidate_a_before_b"
            ),
        ]
        # The report's pages: one kind, in list order.
        indexes = [models.Index(fields=["kind", "id"], name="duplicate_candidate_list_idx")]

    def __str__(self):
        return f"{self.member_a_id}–{self.member_b_id} {self.kind}"

    @property
    def members(self) -> tuple[Member, Member]:
        return self.member_a, self.member_b
