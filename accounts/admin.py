from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

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
    list_display = ("username", "full_name", "role", "jurisdiction", "is_active", "last_login")
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


@admin.register(StaffRelative)
class StaffRelativeAdmin(SimpleHistoryAdmin):
    list_display = ("staff", "name", "relation")
    search_fields = ("staff__username", "staff__full_name", "name")
    autocomplete_fields = ("staff",)
