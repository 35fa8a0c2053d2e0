"""The local clusters' process helpers with real processes and sockets: ports, fail-fast waiting, stopping."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from airflow_provider_flinkbatch.local.processes import (
    LocalClusterError,
    Startup,
    choose_ports,
    pid_alive,
    spawn,
    stop_groups,
)


def test_ports_of_the_previous_start_are_reused_while_free(tmp_path: Path) -> None:
    record = tmp_path / "ports.json"
    first = choose_ports(record, 3)
    assert len(set(first)) == 3
    assert choose_ports(record, 3) == first  # URLs and connections stay valid across down/up

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", first[1]))
        busy.listen()
        again = choose_ports(record, 3)
    assert first[1] not in again and len(set(again)) == 3


def test_a_process_that_dies_while_starting_fails_the_wait_with_its_log(tmp_path: Path) -> None:
    pid = spawn(tmp_path, "jobmanager", ["sh", "-c", "echo 'Could not bind port 8081' >&2; exit 3"], os.environ)
    startup = Startup("Local Flink cluster", tmp_path, tail_lines=15)
    began = time.monotonic()
    with pytest.raises(LocalClusterError) as raised:
        startup.wait(lambda: False, "jobmanager", {"jobmanager": pid}, deadline=time.monotonic() + 60)
    assert time.monotonic() - began < 30  # fails as soon as the process is gone, not at the deadline
    message = str(raised.value)
    assert "Local Flink cluster: jobmanager exited while starting" in message
    assert "Could not bind port 8081" in message and str(tmp_path / "jobmanager.out") in message


def test_stop_ends_the_recorded_process_groups_only(tmp_path: Path) -> None:
    recorded = spawn(tmp_path, "taskmanager", ["sleep", "60"], os.environ)
    other = spawn(tmp_path, "other", ["sleep", "60"], os.environ)
    try:
        assert stop_groups({"taskmanager": recorded}, timeout=10) == ["taskmanager"]
        assert not pid_alive(recorded)
        assert pid_alive(other)
        assert stop_groups({"taskmanager": recorded}, timeout=10) == []  # nothing left to stop
    finally:
        stop_groups({"other": other}, timeout=10)
