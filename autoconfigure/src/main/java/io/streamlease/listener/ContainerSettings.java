package io.streamlease.listener;

import java.time.Duration;

/**
 * How a container runs its handler.
 *
 * @param maxAttempts attempts before a stream is dead-lettered
 * @param initialBackoff delay before the first retry
 * @param maxBackoff longest delay between retries
 * @param entryBatchSize entries read from one data stream at a time (entry-level)
 * @param checkpointEvery checkpoint after this many entries (entry-level)
 * @param checkpointInterval checkpoint at least this often while entries are processed (entry-level)
 * @param pollInterval first delay before polling an empty data stream again (entry-level)
 * @param maxPollInterval longest delay between polls of an idle data stream (entry-level)
 * @param gracePeriod how long running handlers may go on at shutdown before they are cancelled
 * @param threads handler threads when virtual threads are not used
 * @param virtualThreads whether to run handlers on virtual threads when the JVM has them
 */
public record ContainerSettings(int maxAttempts, Duration initialBackoff, Duration maxBackoff, int entryBatchSize,
		int checkpointEvery, Duration checkpointInterval, Duration pollInterval, Duration maxPollInterval,
		Duration gracePeriod, int threads, boolean virtualThreads) {

	/**
	 * The retry delay after {@code attempts} failures.
	 */
	Duration backoff(int attempts) {
		long delay = this.initialBackoff.toMillis() << Math.min(Math.max(attempts - 1, 0), 20);
		return Duration.ofMillis(Math.min(delay, this.maxBackoff.toMillis()));
	}

}
