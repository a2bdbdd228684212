"""The REST API under /api/celery/: views, serializers, throttles, authentication, errors, routes."""
