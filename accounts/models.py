from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.fields import DigestField, EncryptedCharField
from core.validators import phone_number, plain_text
from regions.models import Region

from .roles import ROLE_LEVELS, SECOND_FACTOR_ROLES, Role, admin_may, admin_may_enter

__all__ = ["ROLE_LEVELS", "Role", "StaffRelative", "User"]


class StaffUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """``createsuperuser`` makes the account administrator (系统管理员) of the whole city: the
        first user, who then creates everybody else's account. The superuser flag itself grants
        nothing (``has_perm`` below reads the role only)."""
        extra_fields.setdefault("role", Role.ACCOUNT_ADMIN)
        if "jurisdiction" not in extra_fields and "jurisdiction_id" not in extra_fields:
            extra_fields["jurisdiction"] = Region.objects.get(level=Region.Level.CITY)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A member of staff. Every user has exactly one role and one jurisdiction region; all
    case data they see is inside that region (see ``accounts.scoping``)."""

    full_name = models.CharField(_("full name"), max_length=64, blank=True, validators=[plain_text])
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    jurisdiction = models.ForeignKey(
        Region, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="staff"
    )
    phone = EncryptedCharField(_("phone"), max_length=20, blank=True, validators=[phone_number])
    must_change_password = models.BooleanField(
        _("must change the password at next login"),
        default=False,
        help_text=_("Set when someone else set the password: only its owner should know it."),
    )

    objects = StaffUserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.full_name}({self.username})" if self.full_name else self.username

    def clean(self):
        super().clean()
        if self.role and self.jurisdiction_id:
            allowed = ROLE_LEVELS.get(self.role, ())
            if self.jurisdiction.level not in allowed:
                raise ValidationError(
                    {
                        "jurisdiction": _("A %(role)s's jurisdiction must be a %(levels)s.")
                        % {
                            "role": self.get_role_display(),
                            "levels": "/".join(str(Region.Level(lv).label) for lv in allowed),
                        }
                    }
                )

    @property
    def jurisdiction_prefix(self) -> str:
        return self.jurisdiction.prefix

    @property
    def audit_region_code(self) -> str:
        return self.jurisdiction.code if self.jurisdiction_id else ""

    @property
    def requires_second_factor(self) -> bool:
        return self.role in SECOND_FACTOR_ROLES

    # What a role may do in the Django admin is a table by role and model
    # (``accounts.roles.ADMIN_ACCESS``); ``is_staff``, ``is_superuser``, groups and
    # per-user permissions are never consulted.
    def has_perm(self, perm, obj=None):
        return admin_may(self, perm)

    def has_module_perms(self, app_label):
        return admin_may_enter(self, app_label)


class StaffRelative(models.Model):
    """A close relative (近亲属) declared by a member of staff or a village cadre. An
    application whose household includes this ID number is registered separately (单独登记)."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("Spouse")
        PARENT = "parent", _("Parent")
        CHILD = "child", _("Child")
        SIBLING = "sibling", _("Sibling")
        GRANDPARENT = "grandparent", _("Grandparent")
        GRANDCHILD = "grandchild", _("Grandchild")

    staff = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="relatives",
        verbose_name=_("staff member or cadre"),
    )
    name = models.CharField(_("full name"), max_length=64, validators=[plain_text])
    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_number_digest = DigestField(source="id_number", db_index=True)
    relation = models.CharField(_("relation"), max_length=16, choices=Relation.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("declared close relative")
        verbose_name_plural = _("declared close relatives")
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "id_number_digest"], name="staff_relative_unique"
            )
        ]

    def __str__(self):
        return f"{self.staff} · {self.get_relation_display()} {self.name}"

    @property
    def audit_region_code(self) -> str:
        return self.staff.audit_region_code
