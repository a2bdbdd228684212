"""Users, groups and API tokens in the console's theme (Django's and knox's admins, re-registered)."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from knox.admin import AuthTokenAdmin
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
class ThemedAuthTokenAdmin(AuthTokenAdmin, ModelAdmin):
    pass
