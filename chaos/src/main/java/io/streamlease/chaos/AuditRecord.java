package io.streamlease.chaos;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One record of the sample's audit stream ({@code sample.audit.enabled}): an entry that a consumer started to handle
 * under its fencing token, or a summary write attempt with its outcome (recorded by {@code write-summary.lua} in the
 * same script as the write). The order of the audit stream is the order in which Redis executed them.
 *
 * @param id the audit entry id
 * @param time the Redis server time of the record (the id's milliseconds)
 * @param summary whether it is a summary write attempt (else a handled entry)
 * @param stream the data stream
 * @param consumer the consumer that acted
 * @param token its fencing token
 * @param accepted for a summary write, whether it was written
 * @param stored for a summary write, the token the summary carried before it (null if none)
 */
record AuditRecord(String id, long time, boolean summary, String stream, String consumer, long token, boolean accepted,
		Long stored) {

	private static final int PAGE = 5000;

	/**
	 * Reads the whole audit stream, in order.
	 */
	static List<AuditRecord> readAll(RespClient redis) {
		List<AuditRecord> records = new ArrayList<>();
		String from = "-";
		while (true) {
			List<?> page = (List<?>) redis.call("XRANGE", ChaosSettings.AUDIT, from, "+", "COUNT", Integer.toString(PAGE));
			for (Object item : page) {
				List<?> entry = (List<?>) item;
				records.add(parse(entry.get(0).toString(), RespClient.fields((List<?>) entry.get(1))));
			}
			if (page.size() < PAGE) {
				return records;
			}
			from = "(" + ((List<?>) page.get(page.size() - 1)).get(0);
		}
	}

	static AuditRecord parse(String id, Map<String, String> fields) {
		long time = Long.parseLong(id.substring(0, id.indexOf('-')));
		boolean summary = "summary".equals(fields.get("kind"));
		String stream = summary ? fields.get("key").substring("summary:".length()) : fields.get("stream");
		String stored = fields.get("stored");
		return new AuditRecord(id, time, summary, stream, fields.get("consumer"), Long.parseLong(fields.get("token")),
				"accepted".equals(fields.get("result")), (stored == null || stored.isEmpty()) ? null : Long.parseLong(stored));
	}

}
