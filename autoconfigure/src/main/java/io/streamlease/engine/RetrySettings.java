package io.streamlease.engine;

import java.time.Duration;

/**
 * Exponential back-off for the LBS reader and the renewer when Redis fails.
 *
 * @param maxRetries consecutive failures tolerated before the engine terminates; -1 for unlimited
 * @param initialDelay the first delay, doubled after every further failure
 * @param maxDelay the longest delay
 */
public record RetrySettings(int maxRetries, Duration initialDelay, Duration maxDelay) {

	/**
	 * 5 retries, 100 ms doubling up to 30 s.
	 */
	public static final RetrySettings DEFAULT = new RetrySettings(5, Duration.ofMillis(100), Duration.ofSeconds(30));

	/**
	 * The delay before retry number {@code attempt} (1-based).
	 */
	Duration delay(int attempt) {
		long initial = this.initialDelay.toMillis();
		long delay = initial << Math.min(Math.max(attempt - 1, 0), 30);
		if (delay <= 0 || delay > this.maxDelay.toMillis()) {
			delay = this.maxDelay.toMillis();
		}
		return Duration.ofMillis(delay);
	}

	/**
	 * Whether {@code failures} consecutive failures exhaust the retries.
	 */
	boolean exhausted(int failures) {
		return this.maxRetries >= 0 && failures > this.maxRetries;
	}

}
