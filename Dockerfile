# The project image: one image for every Airflow component (api-server, scheduler, dag-processor,
# triggerer, init, and the Celery worker and Flower of the `celery` profile), the one-time warehouse-init
# job and the Superset import job (superset-init). It runs as the unprivileged user airflow; /data (archive,
# quarantine, reports) is private to it. Dependencies come from uv.lock, and the dbt manifest is
# built here, so the dag-processor never runs dbt and Cosmos renders from target/manifest.json.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/ntp/.venv \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False

RUN pip install --no-cache-dir "uv>=0.5" \
 && groupadd --gid 50000 airflow \
 && useradd --uid 50000 --gid airflow --create-home --home-dir /home/airflow airflow \
 && mkdir -p /opt/ntp /opt/airflow /data \
 && chown -R airflow:airflow /opt/ntp /opt/airflow /data \
 && chmod 0700 /data

WORKDIR /opt/ntp
USER airflow

# Dependencies first (cached while only the project's own code changes), compiled to bytecode once here.
ENV UV_COMPILE_BYTECODE=1
COPY --chown=airflow:airflow pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY --chown=airflow:airflow . .
RUN uv sync --frozen --no-dev \
 && cd dbt_project \
 && /opt/ntp/.venv/bin/dbt parse --profiles-dir . --quiet \
 && test -s target/manifest.json

ENV PATH=/opt/ntp/.venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/ntp/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/ntp/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DBT_PROFILES_DIR=/opt/ntp/dbt_project \
    NTP_DATA_DIR=/data

EXPOSE 8080
CMD ["airflow", "version"]
