package io.streamlease.engine;

/**
 * A stream that may be claimable, as found by one of the detectors.
 *
 * @param stream the data stream
 * @param lbsId the LBS entry to claim, or "" for the entry assigned to the stream
 * @param source which detector found it (for logs)
 * @param departing a consumer to leave out of the claim ranking (the one handing off), or null
 */
record ClaimCandidate(String stream, String lbsId, String source, String departing) {

	static ClaimCandidate of(String stream, String source) {
		return new ClaimCandidate(stream, "", source, null);
	}

}
