from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .models import StaffRelative, User


class StaffCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "role", "jurisdiction")


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
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
    list_filter = ("role", "is_active")
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
        reset = [
            user
            for user in queryset.order_by("pk")
            if services.second_factor_reset(user=user, actor=request.user)
        ]
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


# Authenticator secrets never show in the admin, nor can the admin set one (it would then know
# a user's codes): it only resets a user's second factor (the action on staff users).
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(StaffRelative)
class StaffRelativeAdmin(SimpleHistoryAdmin):
    list_display = ("staff", "name", "relation")
    search_fields = ("staff__username", "staff__full_name", "name", "id_number")
    autocomplete_fields = ("staff",)
