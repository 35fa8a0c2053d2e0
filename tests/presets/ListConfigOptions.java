import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Enumeration;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;

/**
 * Prints every ConfigOption key (and deprecated/fallback key) declared in public static fields of the
 * classes in the given jars, one per line: the Flink version's real option list, read from its jars.
 */
public final class ListConfigOptions {
    public static void main(String[] jars) throws Exception {
        TreeSet<String> keys = new TreeSet<>();
        ClassLoader loader = ListConfigOptions.class.getClassLoader();
        for (String jarPath : jars) {
            try (JarFile jar = new JarFile(jarPath)) {
                Enumeration<JarEntry> entries = jar.entries();
                while (entries.hasMoreElements()) {
                    String name = entries.nextElement().getName();
                    if (!name.endsWith("Options.class") || !name.startsWith("org/apache/flink/")
                            || name.contains("/shaded/")) {
                        continue;
                    }
                    Class<?> cls;
                    try {
                        cls = Class.forName(name.replace('/', '.').replace(".class", ""), false, loader);
                    } catch (Throwable e) {
                        continue;
                    }
                    Field[] fields;
                    try {
                        fields = cls.getDeclaredFields();
                    } catch (Throwable e) {
                        continue;
                    }
                    for (Field f : fields) {
                        if (!Modifier.isStatic(f.getModifiers()) || !ConfigOption.class.isAssignableFrom(f.getType())) {
                            continue;
                        }
                        try {
                            f.setAccessible(true);
                            ConfigOption<?> option = (ConfigOption<?>) f.get(null);
                            keys.add(option.key());
                            for (FallbackKey k : option.fallbackKeys()) {
                                keys.add(k.getKey());
                            }
                        } catch (Throwable e) {
                            // a field whose class cannot initialise here: skip it
                        }
                    }
                }
            }
        }
        for (String key : keys) {
            System.out.println(key);
        }
    }
}
