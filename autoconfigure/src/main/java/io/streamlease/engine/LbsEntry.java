package io.streamlease.engine;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * One LBS entry in the wire format of redis-stream-client-go: a field {@code lbs-input} holding
 * {@code {"DataStreamName": "<name>", "Info": {...}}}. {@link #parse} tells a valid entry from a malformed one
 * and says what is wrong with the latter.
 *
 * @param id the entry id
 * @param fields every field of the entry, as read
 * @param stream the data stream name, null when the entry is malformed
 * @param info the Info object, empty when absent
 * @param rejection why the entry is malformed, null when it is valid
 * @param detail a human-readable explanation of the rejection
 */
record LbsEntry(String id, Map<String, String> fields, String stream, Map<String, Object> info,
		DeadLetterReason rejection, String detail) {

	static final String FIELD = "lbs-input";

	static final JsonMapper JSON = JsonMapper.builder().build();

	boolean valid() {
		return this.rejection == null;
	}

	static LbsEntry parse(String id, Map<String, String> fields, int maxEntrySize) {
		long size = 0;
		for (Map.Entry<String, String> field : fields.entrySet()) {
			size += utf8Length(field.getKey()) + utf8Length(field.getValue());
		}
		if (size > maxEntrySize) {
			return rejected(id, fields, DeadLetterReason.OVERSIZED,
					"the entry has " + size + " bytes, more than max-entry-size (" + maxEntrySize + ")");
		}
		String payload = fields.get(FIELD);
		if (payload == null) {
			return rejected(id, fields, DeadLetterReason.MISSING_FIELD,
					"the entry has no '" + FIELD + "' field (fields: " + fields.keySet() + ")");
		}
		JsonNode root;
		try {
			root = JSON.readTree(payload);
		}
		catch (JacksonException ex) {
			return rejected(id, fields, DeadLetterReason.INVALID_JSON,
					"'" + FIELD + "' is not valid JSON: " + ex.getOriginalMessage());
		}
		if (root == null || !root.isObject()) {
			return rejected(id, fields, DeadLetterReason.INVALID_JSON,
					"'" + FIELD + "' is not a JSON object");
		}
		JsonNode name = root.get("DataStreamName");
		if (name == null || !name.isString() || name.stringValue().isBlank()) {
			return rejected(id, fields, DeadLetterReason.MISSING_STREAM_NAME,
					"'" + FIELD + "' has no non-blank string DataStreamName");
		}
		JsonNode info = root.get("Info");
		Map<String, Object> infoMap = Collections.emptyMap();
		if (info != null && !info.isNull()) {
			if (!info.isObject()) {
				return rejected(id, fields, DeadLetterReason.INVALID_INFO,
						"Info of stream '" + name.stringValue() + "' is not a JSON object");
			}
			@SuppressWarnings("unchecked")
			Map<String, Object> converted = JSON.treeToValue(info, LinkedHashMap.class);
			// the usual Info is {}: one shared empty map instead of an empty LinkedHashMap and its wrapper per stream
			infoMap = converted.isEmpty() ? Collections.emptyMap() : Collections.unmodifiableMap(converted);
		}
		return new LbsEntry(id, fields, name.stringValue(), infoMap, null, null);
	}

	/**
	 * The Info of an entry that was valid when first read (a takeover meets it again), from its {@code lbs-input};
	 * none (null) when claim-pending.lua recognized the usual payload with an empty Info and left it out. An Info that
	 * cannot be read is empty, as for {@link #parse}.
	 */
	static Map<String, Object> infoOf(String payload) {
		if (payload == null) {
			return Collections.emptyMap();
		}
		return parse("", Map.of(FIELD, payload), Integer.MAX_VALUE).info();
	}

	/**
	 * The value of {@code lbs-input} for a stream and its Info, as producers write it.
	 */
	static String payload(String stream, Map<String, ?> info) {
		Map<String, Object> message = new LinkedHashMap<>();
		message.put("DataStreamName", stream);
		message.put("Info", (info != null) ? info : Map.of());
		return JSON.writeValueAsString(message);
	}

	private static LbsEntry rejected(String id, Map<String, String> fields, DeadLetterReason reason, String detail) {
		return new LbsEntry(id, fields, null, Map.of(), reason, detail);
	}

	private static long utf8Length(String text) {
		return (text != null) ? text.getBytes(StandardCharsets.UTF_8).length : 0;
	}

}
