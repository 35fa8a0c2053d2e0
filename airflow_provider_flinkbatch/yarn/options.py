"""``target_options`` of ``target="yarn"``: validated when the DAG is parsed (light: pydantic only).

Per-job YARN settings. The cluster side (ResourceManager URLs, Flink CLI, Hadoop config, Kerberos)
comes from the ``flink_yarn`` connection named by ``flink_conn_id``.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_MEMORY = re.compile(
    r"^\d+(\.\d+)?\s*(b|bytes|k|kb|kibibytes|m|mb|mebibytes|g|gb|gibibytes|t|tb|tebibytes)?$", re.IGNORECASE
)
#: Tags the provider adds itself (identity, job id, fingerprint, provider marker) out of YARN's 10.
RESERVED_TAGS = 4


class YarnTargetOptions(BaseModel):
    """Options of one YARN application-mode job.

    :param queue: YARN queue (``yarn.application.queue``).
    :param application_name: YARN application name (``yarn.application.name``); default: the job name.
    :param jobmanager_memory: ``jobmanager.memory.process.size``, e.g. ``"1600m"``, ``"2g"``.
    :param taskmanager_memory: ``taskmanager.memory.process.size``.
    :param taskmanager_slots: ``taskmanager.numberOfTaskSlots``.
    :param tags: extra YARN application tags (the provider adds 4 of YARN's 10).
    :param flink_config: extra ``-D`` options for this application (cluster-level keys such as
        ``yarn.ship-files``; job keys belong in the operator's ``flink_config``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue: str | None = None
    application_name: str | None = Field(default=None, min_length=1, max_length=256)
    jobmanager_memory: str | None = None
    taskmanager_memory: str | None = None
    taskmanager_slots: int | None = Field(default=None, ge=1, le=1024)
    tags: list[str] = Field(default_factory=list, max_length=10 - RESERVED_TAGS)
    flink_config: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("queue")
    @classmethod
    def _queue(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c.isspace() or c == "," for c in value)):
            raise ValueError(f"queue must be a YARN queue name like 'default' or 'root.etl', got {value!r}")
        return value

    @field_validator("jobmanager_memory", "taskmanager_memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(value.strip()):
            raise ValueError(f"must be a Flink memory size like '1600m' or '4g', got {value!r}")
        return value.strip() if value is not None else None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not tag or len(tag) > 100 or not tag.isascii() or "," in tag:
                raise ValueError(f"YARN tags are 1-100 ASCII characters without commas, got {tag!r}")
        return [tag.lower() for tag in value]  # YARN lower-cases them anyway

    @field_validator("flink_config")
    @classmethod
    def _config(cls, value: dict[str, str | int | float | bool]) -> dict[str, str | int | float | bool]:
        for key in value:
            if not key or "=" in key:
                raise ValueError(f"flink_config key {key!r} is empty or contains '='")
            if key.startswith("$internal."):
                raise ValueError(f"flink_config key {key!r} is set by the provider (job identity); remove it")
        return value
