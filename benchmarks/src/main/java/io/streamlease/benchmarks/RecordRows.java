package io.streamlease.benchmarks;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.databind.JsonNode;

/**
 * A result record as one row of the raw results (its components in order, names in snake case) and back, for the
 * scenarios whose rows are flat records (reading options, the shipped product).
 */
final class RecordRows {

	private RecordRows() {
	}

	static Map<String, Object> row(Record record) {
		Map<String, Object> row = new LinkedHashMap<>();
		for (RecordComponent component : record.getClass().getRecordComponents()) {
			try {
				row.put(snake(component.getName()), component.getAccessor().invoke(record));
			}
			catch (ReflectiveOperationException ex) {
				throw new IllegalStateException("Cannot read " + component, ex);
			}
		}
		return row;
	}

	static <R extends Record> R read(JsonNode row, Class<R> type) {
		RecordComponent[] components = type.getRecordComponents();
		Object[] values = new Object[components.length];
		Class<?>[] types = new Class<?>[components.length];
		for (int i = 0; i < components.length; i++) {
			types[i] = components[i].getType();
			JsonNode value = row.path(snake(components[i].getName()));
			boolean absent = value.isMissingNode() || value.isNull();
			if (types[i] == int.class) {
				values[i] = absent ? 0 : value.asInt();
			}
			else if (types[i] == long.class) {
				values[i] = absent ? 0L : value.asLong();
			}
			else if (types[i] == double.class) {
				values[i] = absent ? Double.NaN : value.asDouble();
			}
			else if (types[i] == String.class) {
				values[i] = absent ? null : value.asString();
			}
			else if (types[i] == Map.class) {
				Map<String, Long> map = new LinkedHashMap<>();
				value.properties().forEach((entry) -> map.put(entry.getKey(), entry.getValue().asLong()));
				values[i] = map;
			}
			else {
				throw new IllegalStateException("No rule to read " + components[i] + " of " + type);
			}
		}
		try {
			Constructor<R> constructor = type.getDeclaredConstructor(types);
			constructor.setAccessible(true);
			return constructor.newInstance(values);
		}
		catch (ReflectiveOperationException ex) {
			throw new IllegalStateException("Cannot create " + type, ex);
		}
	}

	private static String snake(String name) {
		return name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
	}

}
