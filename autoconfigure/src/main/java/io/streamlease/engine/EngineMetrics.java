package io.streamlease.engine;

import java.time.Duration;

/**
 * Receives the engine's signals; every method has an empty default. The first nine are the signals of
 * redis-stream-client-go's metrics recorder, in our words; the rest are ours. Implementations must be fast and
 * must not throw: they run on the engine's threads. Stream names are passed for logging; do not use them as
 * metric tags (their number is unbounded).
 */
public interface EngineMetrics {

	/** Does nothing. */
	EngineMetrics NONE = new EngineMetrics() {
	};

	/** Startup recovery finished: pending entries examined, streams recovered, how long it took. */
	default void startupRecovery(boolean success, int examined, int recovered, Duration duration) {
	}

	/** A claim of a lapsed stream was attempted. */
	default void claimAttempt(String stream, ClaimResult.Status result, Duration duration) {
	}

	/** A lease was acquired, from the LBS or by a claim ({@code recovered}). */
	default void leaseAcquired(String stream, boolean recovered) {
	}

	/** One renewal tick finished: how many leases it covered, how many it found lost, whether Redis answered. */
	default void renewal(int leases, int lost, boolean success, Duration duration) {
	}

	/** A lease was released: the stream finished (done), was handed off, or dead-lettered. */
	default void leaseReleased(String stream, String how) {
	}

	/** Processing of a stream started (its lease was acquired and the ADDED event queued). */
	default void streamProcessingStarted(String stream) {
	}

	/** Processing of a stream ended (done), after the given time holding it. */
	default void streamProcessingEnded(String stream, Duration held) {
	}

	/** A keyspace notification arrived: the session of {@code consumer} lapsed (or ended). */
	default void keyspaceNotification(String consumer) {
	}

	/** A keyspace notification was dropped because the keyspace channel was full (the sweep covers it). */
	default void keyspaceNotificationDropped() {
	}

	/** This consumer lost a lease it held. */
	default void disowned(String stream, String reason) {
	}

	/** This consumer handed off leases at close. */
	default void handedOff(int count) {
	}

	/** This consumer handed streams off to peers below their fair share (a rebalance); counted in handedOff too. */
	default void rebalanced(int count) {
	}

	/** A sweep found lapsed leases or orphaned LBS entries. */
	default void sweepOrphansFound(int count) {
	}

	/** An LBS entry was moved to the dead-letter stream. */
	default void deadLettered(DeadLetterReason reason) {
	}

	/** A second LBS entry arrived for a stream whose lease is held: recorded as a resubmission. */
	default void duplicateSubmission(String stream) {
	}

	/**
	 * A handler invocation ended (reported by the layer that runs handlers, not by the engine itself).
	 * @param outcome {@code success}, {@code error}, {@code cancelled}, {@code retried} or {@code dead-lettered}
	 */
	default void handlerInvocation(String stream, String outcome, Duration duration) {
	}

}
