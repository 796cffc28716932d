package io.streamlease.engine;

import java.time.Duration;

/**
 * This consumer's session: its id (given by the registry when the consumer registers) and the local safety
 * deadline. Every held stream is valid only while the session is: if no renewal is confirmed within 80% of
 * hb-interval of being sent, the session may lapse on the server at any moment, so every stream is disowned
 * locally before that can happen.
 */
final class Session {

	private final long safetyNanos;

	private volatile String id;

	private volatile long safeUntilNanos;

	Session(Duration hbInterval) {
		this.safetyNanos = safetyWindow(hbInterval).toNanos();
	}

	/** How long after sending a renewal the session counts as safely live: 80% of the TTL. */
	static Duration safetyWindow(Duration hbInterval) {
		return hbInterval.multipliedBy(4).dividedBy(5);
	}

	/** A new session opened at {@code sentNanos} (when the registration was sent). */
	void opened(String sessionId, long sentNanos) {
		this.id = sessionId;
		this.safeUntilNanos = sentNanos + this.safetyNanos;
	}

	/** A renewal sent at {@code sentNanos} was confirmed. */
	void renewed(long sentNanos) {
		long until = sentNanos + this.safetyNanos;
		if (until - this.safeUntilNanos > 0) {
			this.safeUntilNanos = until;
		}
	}

	/** The session id, or null before the first registration. */
	String id() {
		return this.id;
	}

	/** Whether the local safety deadline has not passed. */
	boolean isSafe() {
		return this.id != null && System.nanoTime() - this.safeUntilNanos < 0;
	}

	/**
	 * Abandons the session (it lapsed, was handed off, or its safety deadline passed): not safe any more, and no
	 * longer renewed.
	 * @return its id, or null if there was none
	 */
	String abandon() {
		String abandoned = this.id;
		this.id = null;
		this.safeUntilNanos = System.nanoTime();
		return abandoned;
	}

	Duration safetyWindow() {
		return Duration.ofNanos(this.safetyNanos);
	}

}
