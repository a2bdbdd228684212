"""The console's sidebar links (settings.UNFOLD["SIDEBAR"]), each shown only to who may open it."""

from collections.abc import Callable
from typing import Any

from django.urls import reverse_lazy


def may(*permissions: str) -> Callable[[Any], bool]:
    """A link's permission callback: true for users holding any of these permissions."""
    return lambda request: any(request.user.has_perm(permission) for permission in permissions)


def page_link(name: str, title: str, icon: str, *permissions: str) -> dict[str, Any]:
    """A link to the admin URL named `name`; every staff user sees it unless permissions are given."""
    item: dict[str, Any] = {"title": title, "icon": icon, "link": reverse_lazy(name)}
    return {**item, "permission": may(*permissions)} if permissions else item


def model_link(label: str, title: str, icon: str) -> dict[str, Any]:
    """A link to a model's admin list ("app_label.model"), for users who may view that model."""
    app_label, model = label.split(".")
    return page_link(f"admin:{app_label}_{model}_changelist", title, icon, f"{app_label}.view_{model}")


def page_link_if(name: str, title: str, icon: str, visible: str) -> dict[str, Any]:
    """A link shown when the callback named by dotted path `visible` says so (imported lazily)."""
    return {"title": title, "icon": icon, "link": reverse_lazy(name), "permission": visible}
