package io.streamlease.engine;

/**
 * Something that may be claimable, as found by one of the detectors: one stream (a stream handed off alone), or
 * every stream of a consumer whose session lapsed or ended ({@code stream} null, {@code consumer} set), taken over
 * in chunks.
 *
 * @param stream the data stream, or null for all the streams of {@code consumer}
 * @param lbsId the LBS entry to claim, or "" for the entry the stream's record names
 * @param source which detector found it (for logs)
 * @param consumer the consumer handing off or whose session lapsed (left out of the claim ranking), or null
 * @param target the consumer a rebalance handed the stream to (only it claims at once), or null
 */
record ClaimCandidate(String stream, String lbsId, String source, String consumer, String target) {

	ClaimCandidate(String stream, String lbsId, String source, String consumer) {
		this(stream, lbsId, source, consumer, null);
	}

	static ClaimCandidate of(String stream, String source) {
		return new ClaimCandidate(stream, "", source, null);
	}

	/** Every stream pending for {@code consumer}. */
	static ClaimCandidate ofConsumer(String consumer, String source) {
		return new ClaimCandidate(null, "", source, consumer);
	}

	/** Whether this stands for every stream of a consumer. */
	boolean isConsumer() {
		return this.stream == null;
	}

	/** The key under which the claim worker waits on it. */
	String key() {
		return isConsumer() ? "\u0000consumer:" + this.consumer : this.stream;
	}

}
