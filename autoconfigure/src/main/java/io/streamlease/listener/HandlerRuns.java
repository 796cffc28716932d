package io.streamlease.listener;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handler runs in progress of one container, and how they end: a failure goes through the
 * {@link StreamHandlerErrorHandler} (the attempt counted in Redis first, then a retry after a delay or the
 * recovery of the stream), every outcome is recorded. Shared by stream-level runs and the {@link EntryReader}.
 */
final class HandlerRuns {

	private static final Logger logger = LoggerFactory.getLogger(HandlerRuns.class);

	private final Map<String, HandlerRun> runs = new ConcurrentHashMap<>();

	private final StreamHandlerErrorHandler errorHandler;

	private final HeldStreamOperations operations;

	private final ContainerSettings settings;

	/**
	 * @param errorHandler the error policy
	 * @param operations the engine's operations on held streams
	 * @param settings for the back-off while Redis cannot count attempts
	 */
	HandlerRuns(StreamHandlerErrorHandler errorHandler, HeldStreamOperations operations, ContainerSettings settings) {
		this.errorHandler = errorHandler;
		this.operations = operations;
		this.settings = settings;
	}

	/**
	 * Starts tracking a run; returns the run it replaces, if any (the stream was acquired again).
	 */
	HandlerRun put(HandlerRun run) {
		return this.runs.put(run.lease.name(), run);
	}

	HandlerRun get(String stream) {
		return this.runs.get(stream);
	}

	/** Stops tracking a run that ended (only if it is still the stream's current run). */
	void ended(HandlerRun run) {
		this.runs.remove(run.lease.name(), run);
	}

	/** Stops tracking a run and cancels it (lease lost, handed off): its handler is interrupted if it runs. */
	void cancel(HandlerRun run) {
		ended(run);
		run.cancel();
	}

	Collection<HandlerRun> all() {
		return this.runs.values();
	}

	boolean isEmpty() {
		return this.runs.isEmpty();
	}

	void record(HandlerRun run, String outcome, long startedNanos) {
		this.operations.record(run.lease, outcome, Duration.ofNanos(System.nanoTime() - startedNanos));
	}

	/**
	 * The handler finished the run but finishing the stream failed: hands it off so that it runs again from its
	 * checkpoint (here or on a peer).
	 */
	void handOff(HandlerRun run) {
		this.operations.handOff(run.lease);
	}

	/**
	 * A run let go of a stream that a rebalance asked it to yield: it is no longer tracked, and the stream is handed
	 * off, not finished (the peer resumes it from its checkpoint).
	 */
	void yielded(HandlerRun run) {
		ended(run);
		this.operations.handOff(run.lease);
	}

	/**
	 * A handler failed: counts the attempt and asks the error handler for a retry delay; without one, recovers the
	 * stream (dead letter by default). A failure of a cancelled run is only recorded.
	 * @return the delay before the retry, or null when the run is over
	 */
	Duration failed(HandlerRun run, HandlerFailedException failure, long startedNanos) {
		if (run.cancelled || !run.lease.isOwned()) {
			record(run, "cancelled", startedNanos);
			ended(run);
			return null;
		}
		int attempts;
		try {
			attempts = this.operations.countAttempt(run.lease);
		}
		catch (LeaseLostException ex) {
			record(run, "cancelled", startedNanos);
			ended(run);
			return null;
		}
		catch (RuntimeException ex) {
			// Redis could not count it (unreachable, most likely the very reason the handler failed): not an attempt
			// of the handler's own; retry after a growing back-off and count again once Redis answers
			run.uncounted++;
			Duration delay = DefaultStreamErrorHandler.exponential(this.settings.initialBackoff(),
					this.settings.maxBackoff(), run.uncounted);
			record(run, "retried", startedNanos);
			logger.warn("{} (not counted as an attempt: Redis could not count it: {}); retrying in {} ms",
					failure.getMessage(), ex.getMessage(), delay.toMillis());
			return delay;
		}
		run.uncounted = 0;
		Duration delay;
		try {
			delay = this.errorHandler.retryDelay(failure, attempts);
		}
		catch (RuntimeException ex) {
			logger.error("The error handler {} failed on stream '{}' ({}); recovering the stream", this.errorHandler,
					run.lease.name(), ex.toString());
			delay = null;
		}
		if (delay != null) {
			record(run, "retried", startedNanos);
			logger.warn("{} (attempt {}); retrying in {} ms", failure.getMessage(), describeAttempts(attempts),
					delay.toMillis());
			return delay;
		}
		recover(run, failure, attempts, startedNanos);
		ended(run);
		return null;
	}

	/** "2 of 3" with the default policy, "2" with another. */
	private Object describeAttempts(int attempts) {
		return (this.errorHandler instanceof DefaultStreamErrorHandler policy)
				? attempts + " of " + policy.getMaxAttempts() : attempts;
	}

	private void recover(HandlerRun run, HandlerFailedException failure, int attempts, long startedNanos) {
		Recovery recovery = new Recovery(run.lease, failure, attempts);
		try {
			this.errorHandler.recover(recovery);
			if (recovery.deadLettered != null) {
				record(run, "dead-lettered", startedNanos);
				logger.error("{}; the stream was moved to the dead-letter stream", recovery.deadLettered,
						failure.getCause());
				return;
			}
			record(run, "error", startedNanos);
			if (run.lease.isOwned()) {
				// recovered without a dead letter: the stream is done (skipped), as a recovered record is committed
				run.lease.done();
			}
			logger.warn("{} (attempt {}); recovered by {}, the stream is finished", failure.getMessage(), attempts,
					this.errorHandler);
		}
		catch (LeaseLostException ex) {
			record(run, "cancelled", startedNanos);
			logger.debug("Stream '{}' was lost while it was recovered: {}", run.lease.name(), ex.getMessage());
		}
		catch (RuntimeException ex) {
			record(run, "error", startedNanos);
			logger.error("{} (attempt {}); recovering the stream failed too ({}): handing it off, so that it runs "
					+ "again from its checkpoint", failure.getMessage(), attempts, ex.getMessage(), failure.getCause());
			this.operations.handOff(run.lease);
		}
	}

	/**
	 * The engine's operations on held streams that ending a run needs (the container implements them over its
	 * engine).
	 */
	interface HeldStreamOperations {

		/** Counts one more failed attempt on the stream (fenced); the count so far. */
		int countAttempt(LeasedStream stream);

		/** Moves the stream to the dead-letter stream and finishes it (fenced). */
		void deadLetter(LeasedStream stream, String detail);

		/** Hands the stream off without finishing it. */
		void handOff(LeasedStream stream);

		/** Records a handler invocation. */
		void record(LeasedStream stream, String outcome, Duration duration);

	}

	private final class Recovery implements StreamHandlerErrorHandler.FailedStream {

		private final LeasedStream stream;

		private final HandlerFailedException failure;

		private final int attempts;

		volatile String deadLettered;

		Recovery(LeasedStream stream, HandlerFailedException failure, int attempts) {
			this.stream = stream;
			this.failure = failure;
			this.attempts = attempts;
		}

		@Override
		public LeasedStream stream() {
			return this.stream;
		}

		@Override
		public HandlerFailedException failure() {
			return this.failure;
		}

		@Override
		public int attempts() {
			return this.attempts;
		}

		@Override
		public void deadLetter(String detail) {
			HandlerRuns.this.operations.deadLetter(this.stream, detail);
			this.deadLettered = detail;
		}

	}

}
