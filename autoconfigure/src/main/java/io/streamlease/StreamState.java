package io.streamlease;

import java.util.Map;

/**
 * The small state an entry-level {@link StreamHandler} keeps for one data stream (running totals, for example).
 * It is checkpointed atomically with the stream position under the fencing token, and a new owner after a
 * failover resumes with the state of the last checkpoint and the entries after it. Keys and values are strings.
 */
public interface StreamState {

	/**
	 * The value of a key, or null.
	 */
	String get(String key);

	/**
	 * The value of a key as a long, or {@code defaultValue} when absent.
	 */
	default long getLong(String key, long defaultValue) {
		String value = get(key);
		return (value != null) ? Long.parseLong(value) : defaultValue;
	}

	/**
	 * Sets a key.
	 */
	void put(String key, String value);

	/**
	 * Removes a key.
	 */
	void remove(String key);

	/**
	 * A copy of the whole state.
	 */
	Map<String, String> asMap();

	/**
	 * Finishes the stream after the current entry: the position and state are checkpointed, then the lease is
	 * released and the stream's LBS entry acknowledged and deleted.
	 */
	void complete();

}
