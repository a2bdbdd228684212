# One image for every service in docker-compose.yml (web, worker, beat, simulator);
# the compose file picks the command. See README "Deployment with docker-compose".
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VAR_DIR=/app/var \
    STATIC_ROOT=/app/static

WORKDIR /app

# An unprivileged system user with a fixed numeric id (USER is numeric below, so runtimes can
# check it is not root without reading /etc/passwd). /var/lib/celery is created and owned here
# so that the named volume mounted on it (the worker's revoke state) starts out writable by it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-log-init --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app/var /var/lib/celery \
    && chown app:app /app/var /var/lib/celery

# Dependencies before the code: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root: the app user can read it, not change it.
COPY . .

# Static files for whitenoise, collected once at build time. Throwaway keys (and a throwaway
# VAR_DIR) so that settings do not generate real secrets into the image.
RUN DJANGO_SECRET_KEY=collectstatic-only \
    SII_CREDENTIALS_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    VAR_DIR=/tmp/build-var \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-var

USER 10001:10001
EXPOSE 8000

# No HEALTHCHECK here: docker-compose.yml defines one per service.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
