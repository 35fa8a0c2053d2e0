import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.dag.Pipeline;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamMap;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.internal.TableEnvironmentImpl;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.catalog.ContextResolvedTable;
import org.apache.flink.table.catalog.ObjectIdentifier;
import org.apache.flink.table.catalog.ResolvedCatalogBaseTable;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.delegation.Executor;
import org.apache.flink.table.operations.ModifyOperation;
import org.apache.flink.table.operations.Operation;
import org.apache.flink.table.operations.SinkModifyOperation;

/**
 * Runs a Flink SQL batch script as exactly one Flink job.
 *
 * <p>The script arrives already split by the Python side (one statement per {@code --statement-b64}
 * argument, base64 of UTF-8), so statement splitting lives in one tested place and the runner only
 * executes: {@code SET}/{@code RESET} go to the table config, every {@code INSERT} joins one statement
 * set (one job), anything else (DDL, USE, ...) runs at once through {@code executeSql}.
 *
 * <p>The runner never calls {@code await()}: under REST ("web") submission Flink refuses to hand out
 * the job result, and the caller follows the job through the REST API instead.
 *
 * <p>With {@code --statements-file <path>} the statements are read from a file holding one base64
 * statement per line (the Kubernetes target mounts big scripts from a ConfigMap this way).
 *
 * <p>With {@code --explain} the statement set is not executed; its optimized plan is printed between
 * marker lines, followed by one {@code FLINKBATCH-TABLES <json>} line describing every table the script
 * declared (columns, partition keys, connector options), so plan insight can tell what a scan skipped.
 *
 * <p>Each INSERT's sink gets a chained pass-through map in front of it that counts the rows the sink
 * receives into an accumulator named {@code flinkbatch.rows-written.<n>.<table>}: Flink drops per-operator
 * metrics when a task ends, accumulators stay with the finished job ({@code /jobs/<id>/accumulators}, the
 * HistoryServer archives), so "rows written per table" is exact. A sink whose shape is not the expected
 * one (one input) is submitted uncounted, never refused.
 */
public final class FlinkBatchSqlRunner {
    private static final Pattern SET_PATTERN = Pattern.compile(
            "^SET\\s+'((?:[^']|'')*)'\\s*=\\s*'((?:[^']|'')*)'\\s*$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern RESET_PATTERN = Pattern.compile(
            "^RESET(?:\\s+'((?:[^']|'')*)')?\\s*$", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);

    private FlinkBatchSqlRunner() {}

    public static void main(String[] args) {
        List<String> statements = new ArrayList<>();
        boolean explain = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ("--statement-b64".equals(arg) && i + 1 < args.length) {
                statements.add(new String(Base64.getDecoder().decode(args[++i]), StandardCharsets.UTF_8));
            } else if ("--statements-file".equals(arg) && i + 1 < args.length) {
                statements.addAll(readStatementsFile(args[++i]));
            } else if ("--explain".equals(arg)) {
                explain = true;
            } else {
                throw new IllegalArgumentException(
                        "FlinkBatchSqlRunner: unexpected argument '" + arg
                                + "'; expected --statement-b64 <base64> [...] | --statements-file <path> [--explain]");
            }
        }
        if (statements.isEmpty()) {
            throw new IllegalArgumentException("FlinkBatchSqlRunner: no SQL statements were given");
        }
        run(statements, explain);
    }

    private static List<String> readStatementsFile(String path) {
        List<String> found = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of(path), StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    found.add(new String(Base64.getDecoder().decode(line.strip()), StandardCharsets.UTF_8));
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("FlinkBatchSqlRunner: cannot read statements file " + path + ": " + e, e);
        }
        return found;
    }

    static void run(List<String> statements, boolean explain) {
        TableEnvironment tEnv = TableEnvironment.create(EnvironmentSettings.inBatchMode());
        StatementSet insertSet = tEnv.createStatementSet();
        List<String> insertStatements = new ArrayList<>();
        int inserts = 0;
        int index = 0;
        for (String statement : statements) {
            index++;
            String head = statement.stripLeading().toUpperCase(Locale.ROOT);
            try {
                if (head.startsWith("SET")) {
                    applySet(tEnv, statement.strip());
                } else if (head.startsWith("RESET")) {
                    applyReset(tEnv, statement.strip());
                } else if (head.startsWith("INSERT")) {
                    insertSet.addInsertSql(statement);
                    insertStatements.add(statement);
                    inserts++;
                } else {
                    TableResult ignored = tEnv.executeSql(statement);
                }
            } catch (RuntimeException e) {
                throw new IllegalStateException(
                        "Statement " + index + " of " + statements.size() + " (" + preview(statement)
                                + ") failed: " + firstLine(e.getMessage()), e);
            }
        }
        if (inserts == 0) {
            throw new IllegalArgumentException(
                    "The SQL script has no INSERT statement, so it would run no Flink job; "
                            + "write the results with INSERT INTO <sink table> ...");
        }
        if (explain) {
            System.out.println("=== FLINKBATCH PLAN BEGIN ===");
            System.out.println(insertSet.explain());
            System.out.println("=== FLINKBATCH PLAN END ===");
            System.out.println("FLINKBATCH-TABLES " + tablesJson(tEnv));
            return;
        }
        executeCountingRows(tEnv, insertStatements);
    }

    static final String ROWS_WRITTEN = "flinkbatch.rows-written.";

    /** What {@code StatementSet.execute()} does (translate, one pipeline, submit), with a row counter per sink. */
    private static void executeCountingRows(TableEnvironment tEnv, List<String> inserts) {
        TableEnvironmentImpl impl = (TableEnvironmentImpl) tEnv;
        List<ModifyOperation> operations = new ArrayList<>();
        for (String insert : inserts) {
            for (Operation operation : impl.getParser().parse(insert)) {
                operations.add((ModifyOperation) operation);
            }
        }
        List<Transformation<?>> sinks = impl.getPlanner().translate(operations);
        List<String> names = new ArrayList<>();
        for (ModifyOperation operation : operations) {
            names.add(operation instanceof SinkModifyOperation
                    ? ((SinkModifyOperation) operation).getContextResolvedTable().getIdentifier().asSummaryString()
                    : operation.asSummaryString());
        }
        if (sinks.size() == operations.size()) {
            for (int i = 0; i < sinks.size(); i++) {
                String table = operations.get(i) instanceof SinkModifyOperation
                        ? ((SinkModifyOperation) operations.get(i)).getContextResolvedTable().getIdentifier()
                                .getObjectName()
                        : "sink";
                countRowsInto(sinks.get(i), ROWS_WRITTEN + (i + 1) + "." + table, table);
            }
        }
        try {
            java.lang.reflect.Field field = TableEnvironmentImpl.class.getDeclaredField("execEnv");
            field.setAccessible(true);
            Executor executor = (Executor) field.get(impl);
            String jobName = impl.getConfig().getOptional(PipelineOptions.NAME)
                    .orElse("insert-into_" + String.join(",", names));
            Pipeline pipeline = executor.createPipeline(sinks, impl.getConfig().getConfiguration(), jobName);
            executor.executeAsync(pipeline);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("FlinkBatchSqlRunner: cannot reach the table environment's executor", e);
        } catch (Exception e) {
            throw new IllegalStateException("FlinkBatchSqlRunner: submitting the job failed: " + e.getMessage(), e);
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void countRowsInto(Transformation<?> sink, String accumulator, String table) {
        if (sink.getInputs().size() != 1) {
            return;
        }
        java.lang.reflect.Field field = null;
        for (Class<?> type = sink.getClass(); type != null && field == null; type = type.getSuperclass()) {
            try {
                field = type.getDeclaredField("input");
            } catch (NoSuchFieldException e) {
                // look in the superclass
            }
        }
        if (field == null || !Transformation.class.isAssignableFrom(field.getType())) {
            return;
        }
        Transformation input = sink.getInputs().get(0);
        OneInputTransformation counter = new OneInputTransformation(
                input,
                "Count rows: " + table,
                SimpleOperatorFactory.of(new StreamMap(new CountRows(accumulator))),
                (TypeInformation) input.getOutputType(),
                input.getParallelism());
        if (input.getMaxParallelism() > 0) {
            counter.setMaxParallelism(input.getMaxParallelism());
        }
        try {
            field.setAccessible(true);
            field.set(sink, counter);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // leave this sink uncounted: its rows are reported as unknown
        }
    }

    /** Passes rows through, counting them into an accumulator (kept with the finished job). */
    public static final class CountRows<T> extends RichMapFunction<T, T> {
        private static final long serialVersionUID = 1L;
        private final String accumulator;
        private transient LongCounter rows;

        CountRows(String accumulator) {
            this.accumulator = accumulator;
        }

        @Override
        public void open(OpenContext context) {
            rows = new LongCounter();
            getRuntimeContext().addAccumulator(accumulator, rows);
        }

        @Override
        public T map(T value) {
            rows.add(1L);
            return value;
        }
    }

    private static void applySet(TableEnvironment tEnv, String statement) {
        Matcher m = SET_PATTERN.matcher(statement);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "cannot read SET statement; write it as SET 'key' = 'value'");
        }
        tEnv.getConfig().set(unquote(m.group(1)), unquote(m.group(2)));
    }

    private static void applyReset(TableEnvironment tEnv, String statement) {
        Matcher m = RESET_PATTERN.matcher(statement);
        if (!m.matches() || m.group(1) == null) {
            throw new IllegalArgumentException("cannot read RESET statement; write it as RESET 'key'");
        }
        tEnv.getConfig().getConfiguration().removeKey(unquote(m.group(1)));
    }

    private static String unquote(String quoted) {
        return quoted.replace("''", "'");
    }

    private static String preview(String statement) {
        String flat = statement.strip().replaceAll("\\s+", " ");
        return flat.length() <= 80 ? flat : flat.substring(0, 77) + "...";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    /** The declared tables as JSON: {name: {columns: [[name, type]], partition_keys: [], options: {}}}. */
    private static String tablesJson(TableEnvironment tEnv) {
        StringBuilder json = new StringBuilder("{");
        String catalog = tEnv.getCurrentCatalog();
        String database = tEnv.getCurrentDatabase();
        boolean firstTable = true;
        for (String name : tEnv.listTables()) {
            ObjectIdentifier id = ObjectIdentifier.of(catalog, database, name);
            Optional<ContextResolvedTable> found =
                    ((TableEnvironmentInternal) tEnv).getCatalogManager().getTable(id);
            if (!found.isPresent()) {
                continue;
            }
            ResolvedCatalogBaseTable<?> table = found.get().getResolvedTable();
            json.append(firstTable ? "" : ",").append(quote(name)).append(":{\"columns\":[");
            firstTable = false;
            ResolvedSchema schema = table.getResolvedSchema();
            for (int i = 0; i < schema.getColumnCount(); i++) {
                json.append(i == 0 ? "" : ",").append("[")
                        .append(quote(schema.getColumnNames().get(i))).append(",")
                        .append(quote(schema.getColumnDataTypes().get(i).toString())).append("]");
            }
            json.append("],\"partition_keys\":[");
            if (table instanceof ResolvedCatalogTable) {
                List<String> keys = ((ResolvedCatalogTable) table).getPartitionKeys();
                for (int i = 0; i < keys.size(); i++) {
                    json.append(i == 0 ? "" : ",").append(quote(keys.get(i)));
                }
            }
            json.append("],\"options\":{");
            boolean firstOption = true;
            for (java.util.Map.Entry<String, String> option : table.getOptions().entrySet()) {
                json.append(firstOption ? "" : ",").append(quote(option.getKey())).append(":")
                        .append(quote(option.getValue()));
                firstOption = false;
            }
            json.append("}}");
        }
        return json.append("}").toString();
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
