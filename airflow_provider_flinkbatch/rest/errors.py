"""Errors of the Flink REST layer, split by what the caller should do about them."""

from __future__ import annotations

from airflow_provider_flinkbatch.errors import FlinkBatchError


class FlinkRestError(FlinkBatchError):
    """A Flink REST call failed. ``transient`` says whether waiting and retrying can help."""

    transient = False

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class FlinkUnreachableError(FlinkRestError):
    """No HTTP answer (connection refused, DNS, timeout) or a proxy said the backend is down."""

    transient = True


class FlinkAuthError(FlinkRestError):
    """401/403: credentials in the connection are missing or wrong."""


class FlinkTlsError(FlinkRestError):
    """The TLS handshake failed (unknown CA, wrong host name, client certificate refused)."""


class FlinkNotFoundError(FlinkRestError):
    """404: the job, jar or path does not exist on this cluster."""


class FlinkBadResponseError(FlinkRestError):
    """The answer is not the JSON Flink sends (an HTML error page, truncated body, missing fields)."""


class FlinkServerError(FlinkRestError):
    """Flink answered with an error (its ``errors`` list is in the message)."""

    def __init__(self, message: str, *, url: str, status: int | None = None, errors: list[str] | None = None) -> None:
        super().__init__(message, url=url, status=status)
        self.errors = errors or []
