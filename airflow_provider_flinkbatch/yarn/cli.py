"""The Flink CLI as a submission client: argv building (a list, never a shell string), running, parsing.

Flink 2.x has one ``run`` action for every deployment target (``run-application`` is gone: the 2.3
``CliFrontend`` answers '"run-application" is not a valid action'), so a YARN application-mode
submission is ``flink run -t yarn-application -D k=v ... -c <main class> <jar> <program args>``.
Everything the job needs travels as ``-D`` options; nothing is interpolated into a shell.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_APP_ID_LINE = re.compile(
    r"(?:Submitted application|Submitting application master|of application '?|Deployed application )"
    r"\s*'?(application_\d+_\d+)"
)
_ANY_APP_ID = re.compile(r"\b(application_\d+_\d+)\b")
_JOB_ID_LINE = re.compile(r"Job has been submitted with JobID ([0-9a-f]{32})")
#: Output kept for error messages (the CLI can print a lot of log lines).
OUTPUT_TAIL = 4000


def build_run_argv(
    flink: str,
    *,
    target: str,
    config: Mapping[str, str],
    main_class: str,
    jar: str,
    program_args: Sequence[str],
) -> list[str]:
    """``flink run -t <target> -d -D k=v ... -c <main class> <jar> <args...>``.

    ``-D`` pairs are passed as two arguments (``-D``, ``key=value``): the CLI splits at the first ``=``,
    so values may contain ``=``, commas and quotes. Program arguments come after the jar, where the
    CLI stops parsing options.
    """
    argv = [flink, "run", "-t", target, "-d"]
    for key, value in config.items():
        if not key or "=" in key:
            raise ValueError(f"Flink config key {key!r} is empty or contains '='")
        argv += ["-D", f"{key}={value}"]
    return [*argv, "-c", main_class, jar, *program_args]


@dataclass(frozen=True)
class CliResult:
    returncode: int
    output: str  # stdout and stderr, interleaved as printed

    @property
    def tail(self) -> str:
        return self.output[-OUTPUT_TAIL:]


class FlinkCliError(RuntimeError):
    """The CLI could not run or did not finish in time (then it was killed; the application may exist).

    ``started``: the CLI ran (and may have deployed the application) rather than failing to start.
    """

    def __init__(self, message: str, *, started: bool) -> None:
        super().__init__(message)
        self.started = started


def run_cli(argv: Sequence[str], env: Mapping[str, str], timeout: float) -> CliResult:
    """Run the CLI without a shell; kill it (and say so) when it exceeds ``timeout`` seconds."""
    try:
        completed = subprocess.run(  # an argv list: no shell involved
            list(argv),
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raw = err.output or b""
        output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        raise FlinkCliError(
            f"{argv[0]} did not finish within {timeout:g}s (raise cli_timeout in the connection); "
            f"last output: {output[-OUTPUT_TAIL:]}",
            started=True,
        ) from err
    except OSError as err:
        raise FlinkCliError(f"cannot run the Flink CLI {argv[0]}: {err}", started=False) from err
    return CliResult(completed.returncode, completed.stdout or "")


def parse_application_id(output: str) -> str | None:
    """The YARN application id the CLI reported (``Submitted application application_...``)."""
    match = _APP_ID_LINE.search(output)
    if match:
        return match.group(1)
    ids = _ANY_APP_ID.findall(output)
    return ids[-1] if len(set(ids)) == 1 else None


def parse_job_id(output: str) -> str | None:
    """The job id a session/remote submission reported (``Job has been submitted with JobID ...``)."""
    match = _JOB_ID_LINE.search(output)
    return match.group(1) if match else None


def redact_argv(argv: Sequence[str], secrets: Sequence[str]) -> list[str]:
    """The argv for log lines: secret values replaced, base64 SQL shortened."""
    shown: list[str] = []
    for arg in argv:
        for secret in secrets:
            if secret:
                arg = arg.replace(secret, "***")
        shown.append(arg if len(arg) <= 120 else f"{arg[:60]}...({len(arg)} chars)")
    return shown
