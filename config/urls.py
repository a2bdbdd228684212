"""Root URL configuration: the API, its docs, the admin, health checks, metrics, and the error pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from config.health import healthz, readyz
from tasks_api.api.views import ApiSchemaView
from tasks_api.metrics.views import metrics

urlpatterns = [
    path("api/celery/", include("tasks_api.api.urls")),
    path("api/schema/", ApiSchemaView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
]

# JSON {"detail": ...} under /api/ (an unknown path, a malformed request, a crash), HTML elsewhere.
handler400 = "tasks_api.api.exceptions.bad_request"
handler403 = "tasks_api.api.exceptions.permission_denied"
handler404 = "tasks_api.api.exceptions.page_not_found"
handler500 = "tasks_api.api.exceptions.server_error"
