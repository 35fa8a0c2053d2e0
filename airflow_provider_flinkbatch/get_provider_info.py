"""Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point.

Kept import-free (plain data) so the providers manager can call it cheaply in every component.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_flinkbatch import __version__

_PKG = "airflow_provider_flinkbatch"
INTEGRATION = "Apache Flink Batch"

_STRING = {"type": ["string", "null"]}


def _form(hidden: list[str], relabel: dict[str, str], **placeholders: str) -> dict[str, Any]:
    """A connection form's ``ui-field-behaviour``: hidden standard fields, relabelled ones, placeholders."""
    return {"hidden-fields": hidden, "relabeling": relabel, "placeholders": placeholders}


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
        "sensors": [
            {"integration-name": INTEGRATION, "python-modules": [f"{_PKG}.sensors.job", f"{_PKG}.sensors.kubernetes"]}
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": [f"{_PKG}.session.hook", f"{_PKG}.yarn.hook"]}],
        "triggers": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [f"{_PKG}.triggers.job", f"{_PKG}.triggers.yarn", f"{_PKG}.triggers.kubernetes"],
            }
        ],
        "extra-links": [
            f"{_PKG}.links.flink.FlinkJobLink",
            f"{_PKG}.links.flink.FlinkHistoryServerLink",
            f"{_PKG}.links.yarn.YarnApplicationLink",
        ],
        "connection-types": [
            {
                "connection-type": "flink_batch",
                "hook-class-name": f"{_PKG}.session.hook.FlinkRestHook",
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
                "ui-field-behaviour": _form(
                    hidden=["schema", "port", "extra"],
                    relabel={"host": "Flink REST URL", "login": "Username (basic auth)"},
                    host="http://jobmanager:8081",
                    login="optional",
                    password="optional",  # noqa: S106 - the form field's placeholder text
                    web_ui_url="defaults to the REST URL",
                    history_server_url="http://historyserver:8082",
                ),
            },
            _YARN_CONNECTION,
        ],
        "config": {
            "flinkbatch": {
                "description": "Settings of the Flink batch provider.",
                "options": {
                    "secret_config_keys": {
                        "description": "Comma-separated globs of flink_config keys whose values are secret, on top "
                        "of the built-in rule (docs/security.md), e.g. my.vault.*,*.api-secret-name",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "my.vault.*",
                        "default": "",
                    },
                    "deployment": {
                        "description": "Name of this Airflow environment, part of every Flink job's identity (its "
                        "job id and the airflow.deployment job parameter): give each Airflow that shares a Flink "
                        "cluster its own, and keep it the same on the scheduler, workers and triggerer. Changing it "
                        "changes the job ids of runs not finished yet (docs/identity.md). 1-63 letters, digits, "
                        "'.', '_' or '-'; the default 'default' keeps the job ids of earlier releases.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "prod-eu",
                        "default": "default",
                    },
                },
            }
        },
    }


_YARN_CONNECTION: dict[str, Any] = {
    "connection-type": "flink_yarn",
    "hook-class-name": f"{_PKG}.yarn.hook.FlinkYarnHook",
    "hook-name": "Flink on YARN",
    "conn-fields": {
        "flink_home": {
            "label": "FLINK_HOME",
            "description": "Flink distribution on the worker (its bin/flink submits to YARN).",
            "schema": _STRING,
        },
        "flink_cli": {
            "label": "Flink CLI path",
            "description": "Explicit path to the flink executable (instead of FLINK_HOME/bin/flink).",
            "schema": _STRING,
        },
        "hadoop_conf_dir": {
            "label": "HADOOP_CONF_DIR",
            "description": "Directory with yarn-site.xml/core-site.xml, passed to the Flink CLI.",
            "schema": _STRING,
        },
        "hadoop_classpath": {
            "label": "HADOOP_CLASSPATH",
            "description": "Output of `hadoop classpath` on the worker, passed to the Flink CLI.",
            "schema": _STRING,
        },
        "kerberos_principal": {"label": "Kerberos principal", "schema": _STRING},
        "kerberos_keytab": {"label": "Kerberos keytab path", "schema": _STRING},
        "spnego": {
            "label": "SPNEGO for the ResourceManager REST API",
            "description": "Needs a Kerberos ticket on the worker and the [kerberos] extra.",
            "schema": {"type": ["boolean", "null"], "default": False},
        },
        "history_server_url": {
            "label": "HistoryServer URL",
            "description": "Flink HistoryServer reading the applications' jobmanager.archive.fs.dir.",
            "schema": _STRING,
        },
        "verify_ssl": {"label": "Verify TLS certificate", "schema": {"type": ["boolean", "null"], "default": True}},
        "ca_path": {"label": "CA bundle path", "schema": _STRING},
        "timeout": {"label": "Request timeout (seconds)", "schema": {"type": ["number", "null"], "default": 30}},
        "cli_timeout": {
            "label": "CLI timeout (seconds)",
            "description": "How long `flink run -t yarn-application` may take to deploy.",
            "schema": {"type": ["number", "null"], "default": 600},
        },
    },
    "ui-field-behaviour": _form(
        hidden=["schema", "port", "password"],
        relabel={"host": "ResourceManager URL(s)", "login": "YARN user (simple auth)"},
        host="http://rm1:8088,http://rm2:8088",
        login="optional: user.name on clusters without Kerberos",
        flink_home="/opt/flink",
        history_server_url="http://historyserver:8082",
    ),
}
