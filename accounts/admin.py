from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice
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
    list_display = (
        "username",
        "full_name",
        "role",
        "jurisdiction",
        "is_active",
        "second_factor",
        "last_login",
    )
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
    actions = ["reset_second_factor"]

    def get_queryset(self, request):
        enrolled = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_second_factor=Exists(enrolled))

    @admin.display(description=_("second factor"), boolean=True, ordering="has_second_factor")
    def second_factor(self, user):
        return user.has_second_factor

    @admin.action(description=_("Reset the second factor (enrolled again at the next login)"))
    def reset_second_factor(self, request, queryset):
        reset = []
        for user in queryset.order_by("pk"):
            try:
                if services.second_factor_reset(user=user, actor=request.user):
                    reset.append(user)
            except DomainError as exc:
                self.message_user(request, f"{user}: {exc.message}", messages.ERROR)
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(count)d user: they enrol a new one at the next login.",
                "Second factor reset for %(count)d users: they enrol a new one at the next login.",
                len(reset),
            )
            % {"count": len(reset)},
            messages.SUCCESS if reset else messages.WARNING,
        )

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


# Authenticator secrets never show in the admin, nor can the admin set one (it would then know
# a user's codes): it only resets a user's second factor (the action on staff users).
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


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
