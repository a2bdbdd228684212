"""Admin pages that belong to no model (the dashboard's live part, workers and queues): under /admin/."""

from django.contrib import admin
from django.urls import URLPattern

_pages: list[URLPattern] = []


def admin_pages_add(*patterns: URLPattern) -> None:
    """Serve these URL patterns from the admin site, before its own (names in the "admin" namespace).

    Through unfold's UnfoldAdminSite.extra_urls hook, which the site calls when its URLs are built;
    wrap each view in admin.site.admin_view for the admin's login and staff check.
    """
    _pages.extend(patterns)
    setattr(admin.site, "extra_urls", lambda: list(_pages))  # noqa: B010  (the site has no such attribute until set)
