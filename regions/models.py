from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """An administrative area in the tree city → district/county (区县) → township/subdistrict
    (乡镇/街道) → village/community (村/居委会).

    ``code`` is the 12-digit statistical code: 2 digits province, 2 city, 2 county, 3
    township, 3 village, zero-padded. A region's subtree is every code that starts with its
    ``prefix``, so "inside my jurisdiction" is a prefix test on an indexed column.
    """

    class Level(models.TextChoices):
        CITY = "city", _("City")
        DISTRICT = "district", _("District/county")
        TOWNSHIP = "township", _("Township/subdistrict")
        VILLAGE = "village", _("Village/community")

    # Significant digits of the code at each level.
    PREFIX_LENGTH = {Level.CITY: 2, Level.DISTRICT: 6, Level.TOWNSHIP: 9, Level.VILLAGE: 12}
    LEVEL_ORDER = [Level.CITY, Level.DISTRICT, Level.TOWNSHIP, Level.VILLAGE]

    code = models.CharField(
        _("code"),
        max_length=12,
        unique=True,
        validators=[RegexValidator(r"^[0-9]{12}$", _("A region code has exactly 12 digits."))],
    )
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive regions take no new cases.")
    )
    is_demo = models.BooleanField(
        _("demo data"), default=False, help_text=_("Generated, not a real place name.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    office_phone = models.CharField(
        _("office phone"),
        max_length=32,
        blank=True,
        help_text=_("The social assistance office's phone, printed on receipts and letters."),
    )
    office_address = models.CharField(_("office address"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [
            models.Index(
                fields=["code"], name="region_code_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level="city", parent__isnull=True)
                | (~models.Q(level="city") & models.Q(parent__isnull=False)),
                name="region_only_city_is_root",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: self.PREFIX_LENGTH[self.level]]

    @property
    def audit_region_code(self) -> str:
        return self.code

    @classmethod
    def prefix_of_code(cls, code: str) -> str:
        """A 12-digit code's significant prefix: its trailing zero groups dropped."""
        code = code.ljust(12, "0")[:12]
        for length in (2, 6, 9):
            if code[length:] == "0" * (12 - length):
                return code[:length]
        return code

    def contains(self, other: "Region") -> bool:
        return other.code.startswith(self.prefix)

    def clean(self):
        """The code must sit inside the parent's prefix at the next level down, with zeros
        after its own significant digits: otherwise a jurisdiction prefix would cover the
        wrong places."""
        super().clean()
        if not self.code or not self.level or len(self.code) != 12:
            return
        if self.level == self.Level.CITY:
            if self.parent_id:
                raise ValidationError({"parent": _("The city has no parent region.")})
            return
        order = self.LEVEL_ORDER
        if self.parent is None or order.index(self.parent.level) != order.index(self.level) - 1:
            raise ValidationError({"parent": _("The parent must be one level above.")})
        length = self.PREFIX_LENGTH[self.level]
        if (
            not self.code.startswith(self.parent.prefix)
            or self.code[length:] != "0" * (12 - length)
            or self.code[:length] == self.parent.code[:length]
        ):
            raise ValidationError(
                {
                    "code": _(
                        "The code must start with the parent's digits (%(prefix)s), add its own "
                        "digits and end in zeros."
                    )
                    % {"prefix": self.parent.prefix}
                }
            )
