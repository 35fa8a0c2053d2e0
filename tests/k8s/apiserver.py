"""A REAL kube-apiserver (v1.20.2) + etcd on 127.0.0.1 for the Kubernetes target tests.

Built once by ``scripts/build-kube-apiserver.sh`` from Debian's own packages and cached under
``~/.cache/kube-apiserver-debian`` (CI caches that directory). Token auth, HTTPS with the apiserver's
self-signed certificate, AlwaysAllow authorization; no controller-manager (no garbage collection)
and no kubelet (nothing runs pods: the operator emulator does the work).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = Path(os.environ.get("FLINKBATCH_KUBE_BUILD_SCRIPT") or ROOT / "scripts" / "build-kube-apiserver.sh")
CRD_DIR = ROOT / "airflow_provider_flinkbatch" / "kubernetes" / "crds"
TOKEN = "flinkbatch-test-token"


class ApiServerUnavailable(RuntimeError):
    """The apiserver cannot be built or started here; the message says why (tests skip with it)."""


@dataclass
class ApiServer:
    url: str
    kubeconfig: Path
    processes: list[subprocess.Popen[bytes]]
    log_dir: Path

    def api_client(self) -> Any:
        from kubernetes import client, config

        configuration = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=configuration)
        return client.ApiClient(configuration)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build() -> Path:
    """The bin dir with kube-apiserver and etcd (builds once, ~3-6 min; cached afterwards)."""
    if not BUILD_SCRIPT.exists():
        raise ApiServerUnavailable(f"{BUILD_SCRIPT} is missing")
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False, timeout=1800)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise ApiServerUnavailable(f"building kube-apiserver failed (exit {result.returncode}):\n{tail}")
    bin_dir = Path(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "")
    bin_dir = next((Path(line) for line in result.stdout.splitlines() if line.endswith("/bin")), bin_dir)
    if not (bin_dir / "kube-apiserver").exists() or not (bin_dir / "etcd").exists():
        raise ApiServerUnavailable(f"build script did not leave kube-apiserver and etcd in {bin_dir!s}")
    return bin_dir


def _service_account_keys(directory: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / "sa.key", directory / "sa.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    import requests
    import urllib3

    urllib3.disable_warnings()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ApiServerUnavailable(f"kube-apiserver exited {process.returncode}: {log.read_text()[-2000:]}")
        try:
            answer = requests.get(
                f"{url}/readyz", headers={"Authorization": f"Bearer {TOKEN}"}, verify=False, timeout=2
            )
            if answer.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise ApiServerUnavailable(f"kube-apiserver not ready after {timeout:.0f}s: {log.read_text()[-2000:]}")


def start(bin_dir: Path, work: Path) -> ApiServer:
    """etcd and kube-apiserver on free ports, CRDs installed, a kubeconfig with a bearer token."""
    work.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    etcd_client, etcd_peer, secure = _free_port(), _free_port(), _free_port()
    etcd_log = (work / "etcd.log").open("wb")
    processes.append(
        subprocess.Popen(
            [
                str(bin_dir / "etcd"),
                "--data-dir",
                str(work / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd_client}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd_client}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{etcd_peer}",
            ],
            stdout=etcd_log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ETCD_UNSUPPORTED_ARCH": "amd64"},
        )
    )
    tokens = work / "tokens.csv"
    tokens.write_text(f'{TOKEN},admin,admin,"system:masters"\n')
    sa_key, sa_pub = _service_account_keys(work)
    cert_dir = work / "certs"
    api_log_path = work / "kube-apiserver.log"
    api_log = api_log_path.open("wb")
    processes.append(
        subprocess.Popen(
            [
                str(bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{etcd_client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={secure}",
                f"--cert-dir={cert_dir}",
                f"--token-auth-file={tokens}",
                "--service-account-issuer=https://kubernetes.default.svc",
                f"--service-account-key-file={sa_pub}",
                f"--service-account-signing-key-file={sa_key}",
                "--service-cluster-ip-range=10.96.0.0/24",
                "--authorization-mode=AlwaysAllow",
                "--disable-admission-plugins=ServiceAccount",
            ],
            stdout=api_log,
            stderr=subprocess.STDOUT,
        )
    )
    url = f"https://127.0.0.1:{secure}"
    server = ApiServer(url, work / "kubeconfig", processes, work)
    try:
        _wait_ready(url, processes[-1], api_log_path)
        server.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "test", "cluster": {"server": url, "insecure-skip-tls-verify": True}}],
                    "users": [{"name": "admin", "user": {"token": TOKEN}}],
                    "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
                    "current-context": "test",
                }
            )
        )
        install_crds(server.api_client())
    except BaseException:
        server.stop()
        raise
    return server


def install_crds(api_client: Any, timeout: float = 60.0) -> None:
    """Create the Flink Kubernetes Operator CRDs and wait until the API serves them."""
    from kubernetes import client

    extensions = client.ApiextensionsV1Api(api_client)
    names = []
    for path in sorted(CRD_DIR.glob("*.yml")):
        body = yaml.safe_load(path.read_text())
        extensions.create_custom_resource_definition(body)
        names.append(body["metadata"]["name"])
    deadline = time.monotonic() + timeout
    for name in names:
        while True:
            crd = extensions.read_custom_resource_definition(name)
            conditions = {c.type: c.status for c in (crd.status.conditions or [])}
            if conditions.get("Established") == "True":
                break
            if time.monotonic() > deadline:
                raise ApiServerUnavailable(f"CRD {name} not established after {timeout:.0f}s: {conditions}")
            time.sleep(0.2)
