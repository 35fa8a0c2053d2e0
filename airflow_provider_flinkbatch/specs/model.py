"""The job spec: one YAML file per Flink SQL job, validated once, read by the DAG, the CLI and the tests.

Why a model and not free-form YAML: hundreds of near-identical specs are written by copy and paste, so
every typo must fail early with the file, the field path and the fix (``extra="forbid"`` turns a
misspelt key into an error instead of a silently ignored setting). Shorthands users naturally write
(``sql: job.sql`` for a one-file list, ``inputs: {t: [rows]}`` or ``{t: file.csv}``) are normalized by
*before* validators, so the model has no unions and the error paths stay readable.

The spec only describes; :mod:`.effective` turns it into SQL text, Flink config and operator
arguments, in one place.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from airflow_provider_flinkbatch.log_safe import job_name_problem
from airflow_provider_flinkbatch.specs.files import confined

#: Airflow's rule for DAG and task ids (letters, digits, dashes, dots, underscores; 250 chars).
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,250}$")
_DURATION = re.compile(r"^\s*(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?\s*$")
_MEMORY = re.compile(r"^\s*\d+\s*(b|bytes|k|kb|kibibytes|m|mb|mebibytes|g|gb|gibibytes|t|tb|tebibytes)?\s*$", re.I)


def _check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"{what} {value!r} may use only letters, digits, '_', '-' and '.' (Airflow id rules)")
    return value


def parse_duration(value: Any) -> timedelta | None:
    """``90`` (seconds), ``"30s"``, ``"5m"``, ``"1h30m"``, ``"2d"`` -> timedelta; ``None`` stays ``None``."""
    if value is None or isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '30s', '5m', '2h' or seconds as a number, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"expected a duration >= 0, got {value!r}")
        return timedelta(seconds=value)
    text = str(value)
    match = _DURATION.match(text)
    if text.strip() and match and any(match.groups()):
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise ValueError(f"expected a duration like '30s', '5m', '2h' or seconds as a number, got {value!r}")


Duration = Annotated[timedelta | None, BeforeValidator(parse_duration)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _table_data(value: Any) -> Any:
    """``[rows]`` -> ``{rows: [rows]}``; ``"file.csv"`` -> ``{file: "file.csv"}``."""
    if isinstance(value, list):
        return {"rows": value}
    if isinstance(value, str):
        return {"file": value}
    return value


def _table_ref(value: Any) -> Any:
    return {"table": value} if isinstance(value, str) else value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=False)


class TableData(_Strict):
    """Rows of one table in a test: inline (a list of mappings) or a file next to the spec.

    Files: ``.csv`` (header row = column names, empty cell = NULL), ``.json`` (a list of objects) or
    ``.jsonl`` (one object per line).
    """

    rows: list[dict[str, Any]] | None = None
    file: str | None = None
    #: Sink columns not compared (values that change per run, e.g. a load timestamp).
    ignore_columns: list[str] = []

    @model_validator(mode="after")
    def _one_source(self) -> TableData:
        if (self.rows is None) == (self.file is None):
            raise ValueError("give either rows (a list of mappings) or file (a .csv/.json/.jsonl path), not both")
        if self.file is not None and not self.file.endswith((".csv", ".json", ".jsonl")):
            raise ValueError(f"file {self.file!r}: use a .csv, .json or .jsonl file")
        return self


TableDataField = Annotated[TableData, BeforeValidator(_table_data)]


class SpecTest(_Strict):
    """One test case: rows per source table in, expected rows per sink table out."""

    name: str
    description: str = ""
    #: Jinja parameters for this case, on top of the spec's ``params``.
    params: dict[str, Any] = {}
    #: The run's logical date for ``{{ ds }}`` & co (default: the spec's start_date, else 2026-01-01).
    logical_date: datetime | None = None
    inputs: dict[str, TableDataField] = {}
    expected: dict[str, TableDataField]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _check_id(value, "test name")

    @field_validator("expected")
    @classmethod
    def _some_expected(cls, value: dict[str, TableData]) -> dict[str, TableData]:
        if not value:
            raise ValueError("name at least one sink table and its expected rows (an empty list means no rows)")
        return value


class TableRef(_Strict):
    """A source or sink table of the job, optionally with the Avro schema it was written against."""

    table: str
    #: ``.avsc`` the job's SQL was written against (relative to the spec file).
    avro_schema: str | None = None
    #: ``.avsc`` of the current producer schema; ``flinkbatch validate`` checks it against ``avro_schema``.
    latest_avro_schema: str | None = None
    #: forward (default): the job's schema can read data written with the latest one; backward: the
    #: latest can read data written with the job's; full: both.
    compatibility: Literal["backward", "forward", "full"] = "forward"
    #: Sinks only: the Airflow asset URI the runs' events name (default: derived from the table's connector
    #: options, e.g. ``file:///warehouse/orders``); for catalog tables or a path that changes per run.
    asset: str | None = None

    @field_validator("asset")
    @classmethod
    def _asset_uri(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value):
            raise ValueError(f"asset {value!r}: expected a URI like 'file:///warehouse/orders' or 's3://bucket/path'")
        return value

    @model_validator(mode="after")
    def _latest_needs_base(self) -> TableRef:
        if self.latest_avro_schema and not self.avro_schema:
            raise ValueError("latest_avro_schema needs avro_schema (the schema the job was written against)")
        return self


TableRefField = Annotated[TableRef, BeforeValidator(_table_ref)]


class Resources(_Strict):
    """Sizing, written once per spec and translated to Flink's own keys (see ``RESOURCE_KEYS``)."""

    parallelism: int | None = Field(default=None, gt=0)
    max_parallelism: int | None = Field(default=None, gt=0)
    task_slots: int | None = Field(default=None, gt=0)
    jobmanager_memory: str | None = None
    taskmanager_memory: str | None = None

    @field_validator("jobmanager_memory", "taskmanager_memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(str(value)):
            raise ValueError(f"expected a Flink memory size like '1g', '1536m' or '2048mb', got {value!r}")
        return value


#: resources field -> the Flink option it sets.
RESOURCE_KEYS = {
    "parallelism": "parallelism.default",
    "max_parallelism": "pipeline.max-parallelism",
    "task_slots": "taskmanager.numberOfTaskSlots",
    "jobmanager_memory": "jobmanager.memory.process.size",
    "taskmanager_memory": "taskmanager.memory.process.size",
}


def _flink_scalar(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)):
        return value
    raise ValueError(
        f"expected a string, number or boolean, got {value!r}: write lists and maps as Flink does, "
        "e.g. 'a;b' or 'k1:v1,k2:v2'"
    )


FlinkValue = Annotated[Any, AfterValidator(_flink_scalar)]


class JobSpec(_Strict):
    """One Flink SQL batch job (see docs/specs.md for every field)."""

    name: str
    description: str = ""
    owner: str = "airflow"
    # --- scheduling (DAG level; specs sharing a ``dag`` must agree on these)
    dag: str | None = None
    schedule: str | None = None
    start_date: date | None = None
    catchup: bool = False
    tags: list[str] = []
    depends_on: list[str] = []
    # --- the job
    sql: Annotated[list[str], BeforeValidator(_one_or_many)]
    params: dict[str, Any] = {}
    job_name: str | None = None
    target: str = "session"
    flink_conn_id: str = "flink_batch_default"
    target_options: dict[str, Any] = {}
    flink_config: dict[str, FlinkValue] = {}
    presets: list[str] = []
    resources: Resources = Resources()
    # --- task behaviour
    retries: int | None = Field(default=None, ge=0)
    retry_delay: Duration = None
    execution_timeout: Duration = None
    retry_on: dict[str, bool] = {}
    deferrable: bool = True
    poll_interval: float = Field(default=5.0, gt=0)
    explain: bool = False
    plan_check: Literal["warn", "fail"] = "warn"
    pool: str | None = None
    queue: str | None = None
    # --- data
    sources: list[TableRefField] = []
    sinks: list[TableRefField] = []
    tests: list[SpecTest] = []

    _path: Path = PrivateAttr(default=Path("."))
    _defaults_files: tuple[Path, ...] = PrivateAttr(default=())
    _root: Path | None = PrivateAttr(default=None)

    @field_validator("name", "dag")
    @classmethod
    def _ids(cls, value: str | None, info: Any) -> str | None:
        return None if value is None else _check_id(value, str(info.field_name))

    @field_validator("job_name")
    @classmethod
    def _job_name(cls, value: str | None) -> str | None:
        problem = job_name_problem(value) if value is not None else None
        if problem:
            raise ValueError(problem.removeprefix("job_name "))
        return value

    @field_validator("sql")
    @classmethod
    def _sql_files(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one .sql file (relative to the spec)")
        bad = [name for name in value if not name.endswith(".sql")]
        if bad:
            raise ValueError(f"expected .sql file paths relative to the spec, got {bad[0]!r}")
        return value

    # ------------------------------------------------------------------ where it came from
    @property
    def path(self) -> Path:
        """The spec's YAML file."""
        return self._path

    @property
    def folder(self) -> Path:
        """Relative paths in the spec (SQL, schemas, test files) are resolved against this folder."""
        return self._path.parent

    @property
    def defaults_files(self) -> tuple[Path, ...]:
        return self._defaults_files

    @property
    def dag_id(self) -> str:
        return self.dag or self.name

    @property
    def root(self) -> Path:
        """The folder every file the spec names must stay in (see :mod:`.files`)."""
        return self._root or self.folder

    def resolve(self, relative: str) -> Path:
        """A path the spec names, inside :attr:`root` (:class:`~.files.SpecPathError` otherwise)."""
        return confined(self.root, self.folder, relative)

    def bind(self, path: Path, defaults_files: tuple[Path, ...] = (), root: Path | None = None) -> JobSpec:
        self._path = path
        self._defaults_files = defaults_files
        self._root = root
        return self

    @property
    def test_cases(self) -> list[SpecTest]:
        # ``tests`` is the YAML key; this alias reads better in code and keeps pytest from collecting it.
        return self.tests
