"""A lost answer to creating the custom resource (issue 20, item 4), on the REAL kube-apiserver + etcd.

A proxy in front of the API server forwards the create of the FlinkDeployment and then drops the connection,
or answers after the client's deadline, or drops it without forwarding. The resource's name is known before
creating it, so the target looks it up: it follows a resource the API server stored (creating the SQL
ConfigMap the lost create never got to) and the job runs to its end; when nothing was stored it says so
clearly (a retryable error). The operator is the emulator on the real local Flink, as in ``test_target.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import make_request, slow_sql
from counting_proxy import CountingProxy
from k8s.apiserver import TOKEN, ApiServer
from k8s.conftest import NAMESPACE, resources
from k8s.test_target import WAIT, config_maps, wait_for_event

from airflow_provider_flinkbatch.targets.base import SubmissionAnswerLost

pytestmark = pytest.mark.integration
CONN = "kubernetes_lossy"
CREATE = f"/apis/flink.apache.org/v1beta1/namespaces/{NAMESPACE}/flinkdeployments"
#: the client's deadline per API call in these tests (a "delay" answer comes after it)
TIMEOUT = 10.0


class Lossy:
    """A proxy in front of the real API server that loses the answer to the create of a FlinkDeployment."""

    def __init__(self, kube_api: ApiServer, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.fault: str | None = None
        self.proxy = CountingProxy(kube_api.url, lose=self._lose).start()
        kubeconfig = yaml.safe_load(kube_api.kubeconfig.read_text())
        kubeconfig["clusters"][0]["cluster"] = {"server": self.proxy.url}
        path = folder / "kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig))
        conn = {"conn_type": "kubernetes", "extra": {"kube_config_path": str(path)}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", json.dumps(conn))

    def _lose(self, method: str, path: str) -> str | None:
        return self.fault if method == "POST" and path == CREATE else None


@pytest.fixture
def lossy(kube_api: ApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lossy]:
    assert TOKEN  # the proxy forwards the kubeconfig's bearer token as it is
    lossy = Lossy(kube_api, tmp_path, monkeypatch)
    yield lossy
    lossy.proxy.stop()


def lossy_target(make_target: Callable[..., Any]) -> Any:
    """The SQL goes into a ConfigMap (as a big script's does): the lost create never got to create it."""
    target = make_target(kubernetes_conn_id=CONN, inline_sql_max_bytes=256)
    target.resources.timeout = TIMEOUT
    return target


def big_sql(rows: int) -> str:
    padding = " OR ".join(f"id = {n}" for n in range(300))
    return slow_sql(rows, 20).replace("FROM slow_source;", f"FROM slow_source WHERE id IS NOT NULL OR {padding};")


@pytest.mark.parametrize("fault", ["drop", f"delay:{TIMEOUT + 3}"])
def test_a_lost_create_answer_is_looked_up_and_the_job_runs_to_its_end(
    lossy: Lossy,
    make_target: Callable[..., Any],
    kube_api: ApiServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    fault: str,
) -> None:
    target = lossy_target(make_target)
    name = f"k8s-lost-{fault.split(':')[0]}"
    request = make_request(big_sql(40), name)
    lossy.fault = fault
    with caplog.at_level(logging.WARNING):
        handle = target.submit(request)
    lossy.fault = None
    assert lossy.proxy.lost == 1
    # the real API server (asked directly) has exactly one resource of this job, the one followed
    mine = [
        r for r in resources(kube_api) if r["metadata"].get("labels", {}).get("flinkbatch/job-id") == request.job_id
    ]
    assert [r["metadata"]["name"] for r in mine] == [str(handle.ref).split("/")[1]]
    # its SQL ConfigMap, which the lost create never got to, exists and is owned by it (the job reads its SQL there)
    sql = config_maps(kube_api)[f"{mine[0]['metadata']['name']}-sql"]
    assert [ref.uid for ref in sql.metadata.owner_references] == [mine[0]["metadata"]["uid"]]
    log = capfd.readouterr().out + "\n".join(record.getMessage() for record in caplog.records)
    ref = f"FlinkDeployment {handle.ref}"
    assert f"No answer from the Kubernetes API server to creating {ref} (" in log, log
    assert f"{ref} exists although the answer to creating it was lost: following it (Flink job {request.job_id})" in log
    event = wait_for_event(target.trigger(handle, WAIT), timeout=180)
    assert (event["status"], event["state"]) == ("terminal", "FINISHED")


def test_a_create_that_never_reached_the_apiserver_says_there_is_no_resource(
    lossy: Lossy, make_target: Callable[..., Any], kube_api: ApiServer
) -> None:
    target = lossy_target(make_target)
    target.lost_answer_grace = 2.0
    request = make_request(slow_sql(10, 20), "k8s-lost-swallowed")
    lossy.fault = "swallow"
    with pytest.raises(SubmissionAnswerLost) as raised:
        target.submit(request)
    message = str(raised.value)
    assert message.startswith(f"the Kubernetes API server's answer to creating FlinkDeployment {NAMESPACE}/"), message
    assert " was lost and it has no such resource (looked for 2s): ProtocolError: " in message, message
    assert message.endswith(
        "Nothing runs for this try; the next try looks for the resource again before creating it"
    ), message
    assert [
        r for r in resources(kube_api) if r["metadata"].get("labels", {}).get("flinkbatch/job-id") == request.job_id
    ] == []
