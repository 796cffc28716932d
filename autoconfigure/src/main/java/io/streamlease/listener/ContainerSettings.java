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
 * @param maxPollInterval longest delay between polls of an idle data stream while no change notifications arrive
 * (entry-level)
 * @param gracePeriod how long running handlers may go on at shutdown before they are cancelled
 * @param threads handler threads when virtual threads are not used
 * @param virtualThreads whether to run handlers on virtual threads when the JVM has them
 * @param changeNotifications whether entry-level reading uses keyspace {@code xadd} events of the data streams as
 * its fast path (entry-level)
 * @param safetyPollInterval how often an idle data stream is read anyway while change notifications are on
 * (entry-level)
 * @param maxInFlightReads XREAD commands of one container in flight at once (entry-level)
 * @param maxInFlightCheckpoints checkpoint and finishing calls of one container in flight at once (entry-level)
 * @param handlerTimeout how long one handler invocation (stream-level: a run; entry-level: an entry) may take
 * before it is cancelled and counted as a failed attempt; null for no limit
 */
public record ContainerSettings(int maxAttempts, Duration initialBackoff, Duration maxBackoff, int entryBatchSize,
		int checkpointEvery, Duration checkpointInterval, Duration pollInterval, Duration maxPollInterval,
		Duration gracePeriod, int threads, boolean virtualThreads, boolean changeNotifications,
		Duration safetyPollInterval, int maxInFlightReads, int maxInFlightCheckpoints, Duration handlerTimeout) {

	/** Default of {@link #safetyPollInterval()}. */
	public static final Duration DEFAULT_SAFETY_POLL_INTERVAL = Duration.ofSeconds(30);

	/** Default of {@link #maxInFlightReads()}. */
	public static final int DEFAULT_MAX_IN_FLIGHT_READS = 4;

	/** Default of {@link #maxInFlightCheckpoints()}. */
	public static final int DEFAULT_MAX_IN_FLIGHT_CHECKPOINTS = 16;

	/**
	 * Settings without a handler timeout.
	 */
	public ContainerSettings(int maxAttempts, Duration initialBackoff, Duration maxBackoff, int entryBatchSize,
			int checkpointEvery, Duration checkpointInterval, Duration pollInterval, Duration maxPollInterval,
			Duration gracePeriod, int threads, boolean virtualThreads, boolean changeNotifications,
			Duration safetyPollInterval, int maxInFlightReads, int maxInFlightCheckpoints) {
		this(maxAttempts, initialBackoff, maxBackoff, entryBatchSize, checkpointEvery, checkpointInterval, pollInterval,
				maxPollInterval, gracePeriod, threads, virtualThreads, changeNotifications, safetyPollInterval,
				maxInFlightReads, maxInFlightCheckpoints, null);
	}

	/**
	 * Settings with the entry-level reading defaults: change notifications on, the default safety poll and
	 * in-flight bounds.
	 */
	public ContainerSettings(int maxAttempts, Duration initialBackoff, Duration maxBackoff, int entryBatchSize,
			int checkpointEvery, Duration checkpointInterval, Duration pollInterval, Duration maxPollInterval,
			Duration gracePeriod, int threads, boolean virtualThreads) {
		this(maxAttempts, initialBackoff, maxBackoff, entryBatchSize, checkpointEvery, checkpointInterval, pollInterval,
				maxPollInterval, gracePeriod, threads, virtualThreads, true, DEFAULT_SAFETY_POLL_INTERVAL,
				DEFAULT_MAX_IN_FLIGHT_READS, DEFAULT_MAX_IN_FLIGHT_CHECKPOINTS);
	}

	/**
	 * The error policy these settings describe: {@link #maxAttempts()} attempts, back-off from
	 * {@link #initialBackoff()} to {@link #maxBackoff()}.
	 */
	public DefaultStreamErrorHandler errorHandler() {
		return new DefaultStreamErrorHandler(this.maxAttempts, this.initialBackoff, this.maxBackoff);
	}

	/**
	 * Whether handlers run on a pool of {@link #threads()} (no virtual threads wanted, or a JVM before Java 21).
	 */
	boolean boundedHandlerPool() {
		return !this.virtualThreads || Runtime.version().feature() < 21;
	}

}
