# Airflow 3 with this provider installed from the repository (docker-compose.yaml builds it).
# Java 17 + the [local] extra (Flink jars from PyPI): the worker compiles the small SQL runner jar
# against Flink once and uploads it to the session cluster (see airflow_provider_flinkbatch/runner/).
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

USER root
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jdk-headless \
 && rm -rf /var/lib/apt/lists/*
USER airflow

COPY --chown=airflow:0 pyproject.toml README.md /opt/flinkbatch/
COPY --chown=airflow:0 airflow_provider_flinkbatch /opt/flinkbatch/airflow_provider_flinkbatch
# Pin the image's Airflow so pip does not up- or downgrade it; the amazon provider reads S3 job archives
# (profile minio).
RUN pip install --no-cache-dir "/opt/flinkbatch[local]" "apache-airflow==${AIRFLOW_VERSION}" \
      "apache-airflow-providers-amazon"
