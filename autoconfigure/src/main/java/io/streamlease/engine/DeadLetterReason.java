package io.streamlease.engine;

/**
 * Why an LBS entry was moved to the dead-letter stream. The lower-case name is the {@code reason} tag of the
 * dead-letter metric and the {@code dead-letter.reason} field of the dead letter.
 */
public enum DeadLetterReason {

	/** The entry has no {@code lbs-input} field. */
	MISSING_FIELD,

	/** {@code lbs-input} is not valid JSON, or not a JSON object. */
	INVALID_JSON,

	/** {@code DataStreamName} is missing, not a string, or blank. */
	MISSING_STREAM_NAME,

	/** {@code Info} is present but not a JSON object. */
	INVALID_INFO,

	/** The entry is larger than the configured maximum entry size. */
	OVERSIZED,

	/** The handler failed on every attempt. */
	HANDLER_FAILED;

	/** The reason as it appears in dead letters and metric tags. */
	public String tag() {
		return name().toLowerCase().replace('_', '-');
	}

}
