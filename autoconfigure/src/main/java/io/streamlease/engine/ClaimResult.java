package io.streamlease.engine;

import io.streamlease.LeasedStream;

/**
 * The outcome of claiming a data stream.
 *
 * @param status what happened
 * @param stream the data stream
 * @param lease the lease when {@link Status#CLAIMED} (or already {@link Status#OWNED}), null otherwise
 * @param holder the consumer holding the lease when {@link Status#ALREADY_CLAIMED}, else null
 */
public record ClaimResult(Status status, String stream, LeasedStream lease, String holder) {

	/**
	 * Claim outcomes. Losing a race is a plain result, not an error.
	 */
	public enum Status {

		/** This consumer won the lease and took over the LBS entry. */
		CLAIMED,

		/** This consumer already holds the stream. */
		OWNED,

		/** Another consumer holds the lease (it claimed first, or never lost it). */
		ALREADY_CLAIMED,

		/** Nothing to claim: the stream was finished, or its LBS entry is gone. */
		GONE,

		/** This consumer holds max-concurrent-streams streams already. */
		AT_CAPACITY;

		/** The status as it appears in metric tags. */
		public String tag() {
			return name().toLowerCase().replace('_', '-');
		}

	}

}
