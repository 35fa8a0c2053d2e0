import java.lang.reflect.Method;
import java.util.Map;
import java.util.TreeMap;

/**
 * Prints every configuration entry Celeborn's client registers (CelebornConf), one per line as
 * {@code key<TAB>categories<TAB>default<TAB>since}: the client's own option list, read from the jar on the
 * classpath by reflection (initialising the CelebornConf object registers each entry), not from a copied list.
 */
public final class ListCelebornKeys {
    public static void main(String[] args) throws Exception {
        Class<?> module = Class.forName("org.apache.celeborn.common.CelebornConf$");
        Object conf = module.getField("MODULE$").get(null);
        Map<?, ?> entries = (Map<?, ?>) module.getMethod("confEntries").invoke(conf);
        TreeMap<String, String> lines = new TreeMap<>();
        for (Object entry : entries.values()) {
            Class<?> type = entry.getClass();
            String key = (String) call(type, entry, "key");
            Object categories = call(type, entry, "categories");
            String joined = (String) categories.getClass().getMethod("mkString", String.class).invoke(categories, ",");
            lines.put(key, key + "\t" + joined + "\t" + call(type, entry, "defaultValueString") + "\t"
                    + call(type, entry, "version"));
        }
        for (String line : lines.values()) {
            System.out.println(line);
        }
    }

    private static Object call(Class<?> type, Object target, String name) throws Exception {
        Method method = type.getMethod(name);
        method.setAccessible(true);
        return method.invoke(target);
    }
}
