"""Routes under /api/celery/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from tasks_api.views import CeleryStatsView, CeleryTaskViewSet

router = SimpleRouter(trailing_slash=False)
router.register("tasks", CeleryTaskViewSet, basename="celery-task")

urlpatterns = [*router.urls, path("stats", CeleryStatsView.as_view(), name="celery-stats")]
