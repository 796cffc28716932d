package io.streamlease.engine;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential back-off with jitter for the engine's calls to Redis when Redis fails (the LBS reader, the first
 * connection, the claim worker; renewals use it too, capped at a tenth of hb-interval). By default retries never
 * end: a transient fault (Redis restarting, frozen, failing over) never stops an engine.
 *
 * @param maxRetries consecutive failures tolerated before the engine terminates; -1 for unlimited
 * @param initialDelay the first delay, doubled after every further failure
 * @param maxDelay the longest delay
 */
public record RetrySettings(int maxRetries, Duration initialDelay, Duration maxDelay) {

	/**
	 * Unlimited retries, 100 ms doubling up to 30 s, with jitter.
	 */
	public static final RetrySettings DEFAULT = new RetrySettings(-1, Duration.ofMillis(100), Duration.ofSeconds(30));

	/**
	 * The delay before retry number {@code attempt} (1-based): the initial delay doubled per earlier attempt, capped
	 * at the maximum delay, then drawn at random from its upper half ("equal jitter"), so that the pods of a service
	 * do not all retry at the same moment after an outage.
	 */
	Duration delay(int attempt) {
		long capped = cappedDelay(attempt);
		long half = capped / 2;
		return Duration.ofMillis(half + ThreadLocalRandom.current().nextLong(capped - half + 1));
	}

	/** The delay before retry number {@code attempt} without jitter: the upper bound of {@link #delay(int)}. */
	long cappedDelay(int attempt) {
		long initial = this.initialDelay.toMillis();
		long delay = initial << Math.min(Math.max(attempt - 1, 0), 30);
		if (delay <= 0 || delay > this.maxDelay.toMillis()) {
			delay = this.maxDelay.toMillis();
		}
		return Math.max(delay, 1);
	}

	/**
	 * Whether {@code failures} consecutive failures exhaust the retries.
	 */
	boolean exhausted(int failures) {
		return this.maxRetries >= 0 && failures > this.maxRetries;
	}

}
