package io.streamlease.test.redis;

import java.time.Duration;

/**
 * The end of a bounded wait: fixtures poll a condition until it holds or the deadline has passed, pausing
 * briefly between polls.
 */
final class Deadline {

	private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

	private final Duration timeout;

	private final long startNanos;

	private Deadline(Duration timeout) {
		this.timeout = timeout;
		this.startNanos = System.nanoTime();
	}

	/**
	 * A deadline the given time from now.
	 * @throws IllegalArgumentException if the timeout is negative
	 */
	static Deadline after(Duration timeout) {
		if (timeout == null || timeout.isNegative()) {
			throw new IllegalArgumentException("A wait needs a timeout of zero or more, not " + timeout);
		}
		return new Deadline(timeout);
	}

	Duration timeout() {
		return this.timeout;
	}

	Duration elapsed() {
		return Duration.ofNanos(System.nanoTime() - this.startNanos);
	}

	boolean hasPassed() {
		return elapsed().compareTo(this.timeout) > 0;
	}

	/**
	 * Pause until the next poll.
	 * @param condition what is awaited, for the message if the thread is interrupted
	 */
	void pause(String condition) {
		try {
			Thread.sleep(POLL_INTERVAL.toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted while waiting for " + condition, ex);
		}
	}

}
