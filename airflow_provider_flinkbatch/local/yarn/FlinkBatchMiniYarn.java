import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;

import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

import sun.misc.Signal;

/**
 * Runs Hadoop's MiniYARNCluster (one ResourceManager, N NodeManagers that launch containers as local
 * processes) for `flinkbatch local yarn up`.
 *
 * Every setting (fixed 127.0.0.1 ports, memory, queues, RM recovery) is in the yarn-site.xml and
 * capacity-scheduler.xml that the Python manager writes into the configuration directory on this
 * JVM's classpath, so clients and the cluster read the same files. This class only starts the
 * cluster, reports readiness in a file, restarts the ResourceManager on SIGHUP (to show what a
 * job sees when its RM restarts) and stops everything, containers included, on SIGTERM.
 *
 * Arguments: the ready file to write, the number of NodeManagers.
 */
public final class FlinkBatchMiniYarn {

    private FlinkBatchMiniYarn() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: FlinkBatchMiniYarn <ready-file> <nodemanagers>");
            System.exit(2);
        }
        File ready = new File(args[0]);
        int nodeManagers = Integer.parseInt(args[1]);
        YarnConfiguration conf = new YarnConfiguration();
        MiniYARNCluster cluster = new MiniYARNCluster("flinkbatch", 1, nodeManagers, 1, 1);
        cluster.init(conf);
        Runtime.getRuntime().addShutdownHook(new Thread(cluster::stop, "stop-mini-yarn"));
        cluster.start();
        if (!cluster.waitForNodeManagersToConnect(120_000)) {
            throw new IllegalStateException("the NodeManagers did not register with the ResourceManager");
        }
        writeReady(ready, "started");
        ClassLoader loader = FlinkBatchMiniYarn.class.getClassLoader();
        Signal.handle(new Signal("HUP"), signal -> {
            Thread restarter = new Thread(() -> restart(cluster, ready), "restart-rm");
            restarter.setContextClassLoader(loader); // the signal thread has none; Hadoop's web filters need one
            restarter.start();
        });
        Thread.currentThread().join();
    }

    private static synchronized void restart(MiniYARNCluster cluster, File ready) {
        try {
            writeReady(ready, "restarting");
            cluster.restartResourceManager(0);
            writeReady(ready, "restarted");
        } catch (Exception e) {
            e.printStackTrace();
            writeReady(ready, "restart-failed " + e);
        }
    }

    private static void writeReady(File ready, String state) {
        try {
            File partial = new File(ready.getPath() + ".partial");
            Files.write(partial.toPath(), (state + "\n").getBytes(StandardCharsets.UTF_8));
            Files.move(partial.toPath(), ready.toPath(), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (Exception e) {
            throw new IllegalStateException("cannot write " + ready, e);
        }
    }
}
