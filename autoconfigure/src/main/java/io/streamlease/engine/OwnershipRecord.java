package io.streamlease.engine;

/**
 * The ownership record of one data stream, the value in the owners hash, formatted and parsed here only:
 * {@code <fencing token>:<session id>:<LBS entry id>}. It has no TTL of its own: it is valid while the named
 * session is live.
 *
 * @param token the fencing token of the acquisition
 * @param sessionId the session that acquired the stream
 * @param lbsEntryId the LBS entry that announced the stream
 */
record OwnershipRecord(long token, String sessionId, String lbsEntryId) {

	/** The record as stored. */
	String value() {
		return this.token + ":" + this.sessionId + ":" + this.lbsEntryId;
	}

	/** Parses a stored record; null for null or an empty string. */
	static OwnershipRecord parse(String value) {
		if (value == null || value.isEmpty()) {
			return null;
		}
		int first = value.indexOf(':');
		int second = value.indexOf(':', first + 1);
		if (first < 0 || second < 0) {
			throw new IllegalArgumentException("Not an ownership record: '" + value + "'");
		}
		return new OwnershipRecord(Long.parseLong(value.substring(0, first)), value.substring(first + 1, second),
				value.substring(second + 1));
	}

	/** How a refused fenced write describes the record it found, given the consumer of its session (or null). */
	static String describe(String value, String consumer) {
		OwnershipRecord record = parse(value);
		if (record == null) {
			return "gone";
		}
		return ((consumer != null) ? "held by consumer '" + consumer + "'" : "held by a session that ended")
				+ " with fencing token " + record.token();
	}

}
