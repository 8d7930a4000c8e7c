from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from core.exceptions import DomainError

from . import services
from .models import StaffRelative, User
from .roles import BUSINESS_ROLES, OFFICER_ROLES

# Roles decide everything (``accounts.roles.ADMIN_ACCESS``): groups are never consulted, so
# they are not offered either.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


class StaffCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "role", "jurisdiction")


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Staff accounts, kept by the account administrator. The officers' accounts (三员) show
    read-only: they are set up on the server (``manage.py officer_create``). The history of
    an account's changes is a security event, read on the security page, not here."""

    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = ("username", "full_name", "role", "jurisdiction", "is_active", "last_login")
    list_filter = ("role", "is_active", "must_change_password")
    list_select_related = ("jurisdiction",)
    search_fields = ("username", "full_name", "jurisdiction__name", "jurisdiction__code")
    autocomplete_fields = ("jurisdiction",)
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Person"), {"fields": ("full_name", "email", "phone")}),
        (_("Role and jurisdiction"), {"fields": ("role", "jurisdiction", "is_active")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "role",
                    "jurisdiction",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.role in OFFICER_ROLES:
            return False
        return super().has_change_permission(request, obj)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role":
            kwargs["choices"] = [
                (value, label) for value, label in db_field.choices if value in BUSINESS_ROLES
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            services.account_save(actor=request.user, user=obj, changed=form.changed_data)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc

    def history_view(self, request, object_id, extra_context=None):
        raise PermissionDenied


# API tokens (knox) are stored hashed: the admin lists them (user, created, expiry) and can
# revoke one, never read or mint one (it would let the admin act under that user's name).
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "token_key", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__full_name")
    fields = ("user", "token_key", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Revoking goes through the service, so that it is logged like every other revocation.
    def delete_model(self, request, obj):
        services.tokens_revoke(actor=request.user, tokens=AuthToken.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.tokens_revoke(actor=request.user, tokens=queryset)


@admin.register(StaffRelative)
class StaffRelativeAdmin(SimpleHistoryAdmin):
    """Close relatives declared by staff, for the city administrator to correct. The staff
    member is chosen from a list, not searched: the user pages are the account
    administrator's."""

    list_display = ("staff", "name", "relation")
    list_select_related = ("staff",)
    search_fields = ("staff__username", "staff__full_name", "name")  # ID numbers are encrypted

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "staff":
            kwargs["queryset"] = User.objects.filter(
                is_active=True, role__in=BUSINESS_ROLES
            ).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# django-axes' lockout counters are read here; a lockout is lifted on the security page, where
# it is logged. Its own admin action deletes counters, unlogged: not offered.
if admin.site.is_registered(AccessAttempt):
    admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockoutAdmin(AccessAttemptAdmin):
    actions = None
