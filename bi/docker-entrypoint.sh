#!/bin/sh
# Metadata schema and roles (idempotent), the admin user (once), then the web server.
set -e
superset db upgrade
superset fab create-admin --username admin --firstname NTP --lastname Admin --email admin@example.org \
    --password "$SUPERSET_ADMIN_PASSWORD" || true
superset init
exec gunicorn --workers 2 --worker-class gthread --threads 8 --timeout 120 --bind 0.0.0.0:8088 \
    "superset.app:create_app()"
