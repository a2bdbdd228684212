"""Routes under /api/celery/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from tasks_api.api.run_views import CeleryRunsView, TaskAttemptsView, TaskChildrenView, TaskRelaunchView
from tasks_api.api.views import CeleryStatsView, CeleryTaskViewSet

router = SimpleRouter(trailing_slash=False)
router.register("tasks", CeleryTaskViewSet, basename="celery-task")

urlpatterns = [
    *router.urls,
    path("tasks/<str:task_id>/children", TaskChildrenView.as_view(), name="celery-task-children"),
    path("tasks/<str:task_id>/attempts", TaskAttemptsView.as_view(), name="celery-task-attempts"),
    path("tasks/<str:task_id>/relaunch", TaskRelaunchView.as_view(), name="celery-task-relaunch"),
    path("runs", CeleryRunsView.as_view(), name="celery-runs"),
    path("stats", CeleryStatsView.as_view(), name="celery-stats"),
]
