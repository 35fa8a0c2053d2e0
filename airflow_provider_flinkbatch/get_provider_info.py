"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

Kept import-free (plain data) so the providers manager can call it cheaply in every component.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkbatch import __version__

_PKG = "airflow_provider_flinkbatch"
INTEGRATION = "Apache Flink Batch"

_STRING = {"type": ["string", "null"]}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-flinkbatch",
        "name": "Apache Flink Batch",
        "description": "Run Apache Flink batch SQL from Airflow on session clusters, Kubernetes and YARN, "
        "with deferrable triggers, reattach on retry and HistoryServer-based failure diagnosis.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://nightlies.apache.org/flink/flink-docs-stable/docs/dev/table/sql/overview/",
                "tags": ["apache"],
            }
        ],
        "operators": [{"integration-name": INTEGRATION, "python-modules": [f"{_PKG}.operators.sql"]}],
        "sensors": [{"integration-name": INTEGRATION, "python-modules": [f"{_PKG}.sensors.job"]}],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [f"{_PKG}.hooks.flink"]}],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": [f"{_PKG}.triggers.job", f"{_PKG}.triggers.kubernetes"]}
        ],
        "extra-links": [f"{_PKG}.links.flink.FlinkJobLink", f"{_PKG}.links.flink.FlinkHistoryServerLink"],
        "connection-types": [
            {
                "connection-type": "flink_batch",
                "hook-class-name": f"{_PKG}.hooks.flink.FlinkRestHook",
                "hook-name": "Flink Batch",
                "conn-fields": {
                    "bearer_token": {
                        "label": "Bearer token",
                        "description": "Sent as 'Authorization: Bearer <token>' (instead of login/password).",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "verify_ssl": {
                        "label": "Verify TLS certificate",
                        "description": "Turn off only for test clusters with self-signed certificates.",
                        "schema": {"type": ["boolean", "null"], "default": True},
                    },
                    "ca_path": {
                        "label": "CA bundle path",
                        "description": "PEM file with the CA that signed the Flink REST certificate.",
                        "schema": _STRING,
                    },
                    "client_cert": {
                        "label": "Client certificate path",
                        "description": "PEM certificate for mutual TLS (security.ssl.rest.authentication-enabled).",
                        "schema": _STRING,
                    },
                    "client_key": {
                        "label": "Client key path",
                        "description": "PEM private key of the client certificate.",
                        "schema": _STRING,
                    },
                    "timeout": {
                        "label": "Request timeout (seconds)",
                        "schema": {"type": ["number", "null"], "default": 30},
                    },
                    "web_ui_url": {
                        "label": "Flink web UI URL",
                        "description": "Where users open the Flink dashboard, if not the REST URL (e.g. an ingress).",
                        "schema": _STRING,
                    },
                    "history_server_url": {
                        "label": "HistoryServer URL",
                        "description": "Flink HistoryServer base URL, for links and diagnosis of finished jobs.",
                        "schema": _STRING,
                    },
                    "archive_dir": {
                        "label": "Job archive directory",
                        "description": "jobmanager.archive.fs.dir as a URL (file:///..., s3://bucket/path): "
                        "diagnosis reads archived jobs there when JobManager and HistoryServer do not know them.",
                        "schema": _STRING,
                    },
                    "archive_conn_id": {
                        "label": "Archive storage connection",
                        "description": "Airflow connection holding the archive storage credentials (e.g. aws_default).",
                        "schema": _STRING,
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "extra"],
                    "relabeling": {"host": "Flink REST URL", "login": "Username (basic auth)"},
                    "placeholders": {
                        "host": "http://jobmanager:8081",
                        "login": "optional",
                        "password": "optional",
                        "web_ui_url": "defaults to the REST URL",
                        "history_server_url": "http://historyserver:8082",
                    },
                },
            }
        ],
    }
