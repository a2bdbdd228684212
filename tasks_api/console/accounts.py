"""Users, groups and API tokens in the console's theme (Django's and knox's admins, re-registered)."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from knox.models import AuthToken
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

for model in (User, Group, AuthToken):
    admin.site.unregister(model)


@admin.register(User)
class ThemedUserAdmin(UserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class ThemedGroupAdmin(GroupAdmin, ModelAdmin):
    pass


@admin.register(AuthToken)
class ThemedAuthTokenAdmin(ModelAdmin):
    """Tokens by name and prefix; never the digest (its primary key, a hash that only fills the screen).

    No add form: the key is shown once, by create_api_token. Revoking is deleting.
    """

    list_display = ["name", "user", "token_key", "created", "expiry", "last_used"]
    list_select_related = ["user", "label"]
    search_fields = ["label__name", "token_key", "user__username"]
    fields = readonly_fields = ["name", "user", "token_key", "created", "expiry", "last_used"]
    ordering = ["-created"]
    list_before_template = "admin/knox/authtoken/list_note.html"

    def get_queryset(self, request) -> QuerySet:
        return super().get_queryset(request).select_related("user", "label")

    @admin.display(description="name", ordering="label__name")
    def name(self, token: AuthToken) -> str:
        label = getattr(token, "label", None)
        return label.name if label else "—"

    @admin.display(description="last used", ordering="label__last_used_at")
    def last_used(self, token: AuthToken):
        label = getattr(token, "label", None)
        return label.last_used_at if label and label.last_used_at else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
