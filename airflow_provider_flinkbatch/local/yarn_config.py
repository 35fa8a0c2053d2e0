"""Every setting of the local YARN cluster and of the Flink client that submits to it, in one place.

The Hadoop side is written as ``core-site.xml``/``yarn-site.xml``/``capacity-scheduler.xml`` into one
directory that is both the MiniYARNCluster JVM's configuration (on its classpath) and the clients'
``HADOOP_CONF_DIR``, so the two can never disagree about ports. The Flink side is the
``config.yaml`` of the CLI's ``FLINK_CONF_DIR``, as a Flink installation on an edge node would have.

Sizes fit a 2-core / 24 GB machine shared with other work: MiniYARNCluster gives each NodeManager
4 GiB of container memory (a fixed value in Hadoop's class); a job takes a 1024 MiB JobManager and
one 1280 MiB TaskManager with one slot, so two jobs run at once on the two NodeManagers. The largest
container YARN grants is 2048 MiB (asking for more is refused with YARN's own message).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from airflow_provider_flinkbatch.local.config import JAVA_17_OPTS, cluster_flink_config, log4j_properties

#: Queues of the local CapacityScheduler (``yarn.application.queue``); any other name is refused by YARN.
QUEUES = ("default", "etl")
MIN_ALLOCATION_MB = 256
MAX_ALLOCATION_MB = 2048
JOBMANAGER_MEMORY = "1024m"
TASKMANAGER_MEMORY = "1280m"
#: Small JVMs start faster and compile less: this cluster shares 2 cores with everything else.
SMALL_JVM_OPTS = ("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")


@dataclass(frozen=True)
class YarnPorts:
    """The ResourceManager's fixed 127.0.0.1 ports (fixed so that an RM restart keeps its addresses)."""

    rm: int
    scheduler: int
    resource_tracker: int
    admin: int
    webapp: int
    history: int

    def as_list(self) -> list[int]:
        return [self.rm, self.scheduler, self.resource_tracker, self.admin, self.webapp, self.history]


def hadoop_xml(properties: dict[str, str]) -> str:
    """A Hadoop ``<configuration>`` file."""
    body = "".join(
        f"  <property><name>{escape(key)}</name><value>{escape(value)}</value></property>\n"
        for key, value in sorted(properties.items())
    )
    return f'<?xml version="1.0"?>\n<configuration>\n{body}</configuration>\n'


def core_site(state_dir: Path) -> dict[str, str]:
    """Local filesystem as the default (staging, archives); simple HTTP auth so ``user.name`` names the caller."""
    return {
        "fs.defaultFS": "file:///",
        "hadoop.tmp.dir": str(state_dir / "hadoop-tmp"),
        # RM REST kills need a known caller: ?user.name=<login> on a simple-auth cluster.
        "hadoop.http.filter.initializers": "org.apache.hadoop.security.AuthenticationFilterInitializer",
        "hadoop.http.authentication.type": "simple",
        "hadoop.http.authentication.simple.anonymous.allowed": "true",
    }


def yarn_site(state_dir: Path, ports: YarnPorts, container_classpath: list[str]) -> dict[str, str]:
    """The ResourceManager on fixed 127.0.0.1 ports with state recovery (it survives its own restart)."""
    host = "127.0.0.1"
    return {
        "yarn.minicluster.fixed.ports": "true",
        "yarn.minicluster.use-rpc": "true",  # NodeManagers reach the RM over RPC, as on a real cluster
        "yarn.resourcemanager.hostname": host,
        "yarn.resourcemanager.address": f"{host}:{ports.rm}",
        "yarn.resourcemanager.scheduler.address": f"{host}:{ports.scheduler}",
        "yarn.resourcemanager.resource-tracker.address": f"{host}:{ports.resource_tracker}",
        "yarn.resourcemanager.admin.address": f"{host}:{ports.admin}",
        "yarn.resourcemanager.webapp.address": f"{host}:{ports.webapp}",
        "yarn.scheduler.minimum-allocation-mb": str(MIN_ALLOCATION_MB),
        "yarn.scheduler.maximum-allocation-mb": str(MAX_ALLOCATION_MB),
        "yarn.scheduler.maximum-allocation-vcores": "4",
        "yarn.nodemanager.resource.cpu-vcores": "8",
        # Containers get the shaded Hadoop client and this directory (Flink adds its own jars).
        "yarn.application.classpath": ",".join(["$HADOOP_CONF_DIR", *container_classpath]),
        # A work-preserving RM restart: applications and running containers are recovered from this store.
        "yarn.resourcemanager.recovery.enabled": "true",
        "yarn.resourcemanager.work-preserving-recovery.enabled": "true",
        "yarn.resourcemanager.store.class": (
            "org.apache.hadoop.yarn.server.resourcemanager.recovery.FileSystemRMStateStore"
        ),
        "yarn.resourcemanager.fs.state-store.uri": (state_dir / "rm-state").as_uri(),
        "yarn.log-aggregation-enable": "false",
        # Each application ships Flink's lib/ (~280 MB: yarn.provided.lib.dirs must be a distributed
        # filesystem); its localized copy goes when the application ends, its container logs stay 3 hours.
        "yarn.nodemanager.delete.debug-delay-sec": "0",
        "yarn.nodemanager.log.retain-seconds": "10800",
        # A nearly full developer disk must not turn the only NodeManagers unhealthy.
        "yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage": "99.5",
        "yarn.nodemanager.disk-health-checker.min-free-space-per-disk-mb": "256",
        "yarn.resourcemanager.max-completed-applications": "1000",
    }


def capacity_scheduler() -> dict[str, str]:
    """Two queues that each may use the whole cluster; ApplicationMasters may take all of it too."""
    config = {
        "yarn.scheduler.capacity.root.queues": ",".join(QUEUES),
        "yarn.scheduler.capacity.maximum-am-resource-percent": "1.0",
    }
    for queue in QUEUES:
        prefix = f"yarn.scheduler.capacity.root.{queue}"
        config[f"{prefix}.capacity"] = str(100 // len(QUEUES))
        config[f"{prefix}.maximum-capacity"] = "100"
        config[f"{prefix}.user-limit-factor"] = str(len(QUEUES))
        config[f"{prefix}.state"] = "RUNNING"
    return config


def client_flink_config(*, state_dir: Path) -> dict[str, str]:
    """The CLI's ``config.yaml``: what every application on the local YARN cluster starts with."""
    config = cluster_flink_config(archive_dir=(state_dir / "archive").as_uri())
    for key in ("historyserver.archive.fs.dir", "historyserver.archive.fs.refresh-interval"):
        config.pop(key)
    config.update(
        {
            "jobmanager.memory.process.size": JOBMANAGER_MEMORY,
            "taskmanager.memory.process.size": TASKMANAGER_MEMORY,
            "taskmanager.numberOfTaskSlots": "1",
            "yarn.application-attempts": "1",
            "yarn.staging-directory": (state_dir / "staging").as_uri(),
            "env.java.opts.all": " ".join([*JAVA_17_OPTS, *SMALL_JVM_OPTS]),
            "jobmanager.bind-host": "127.0.0.1",
            "taskmanager.bind-host": "127.0.0.1",
            "rest.bind-address": "127.0.0.1",
        }
    )
    return config


def history_flink_config(*, state_dir: Path, port: int) -> dict[str, str]:
    """The HistoryServer of the local YARN cluster: it reads the archives the applications leave behind."""
    archive = (state_dir / "archive").as_uri()
    return {
        "historyserver.web.address": "127.0.0.1",
        "historyserver.web.port": str(port),
        "historyserver.archive.fs.dir": archive,
        "historyserver.archive.fs.refresh-interval": "1 s",
        "historyserver.web.tmpdir": str(state_dir / "historyserver-tmp"),
    }


#: The CLI logs to a file; YARN submission progress (application id, web interface) also to the console,
#: as Flink's own ``conf/log4j-cli.properties`` does.
LOG4J_CLI_PROPERTIES = log4j_properties(
    append=False,
    to_console={"yarn": "org.apache.flink.yarn", "hadoopyarn": "org.apache.hadoop.yarn.client.api.impl.YarnClientImpl"},
)

#: The MiniYARNCluster JVM's log (Hadoop logs through slf4j, bound to Flink's log4j2 jars).
LOG4J_YARN_PROPERTIES = log4j_properties(
    pattern="%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-50c{1.} - %m%n",
    quiet={"jetty": "org.eclipse.jetty", "metrics": "org.apache.hadoop.metrics2"},
)
