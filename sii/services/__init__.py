"""Business logic of the sii app: plain functions, no HTTP views and no Celery in them."""
