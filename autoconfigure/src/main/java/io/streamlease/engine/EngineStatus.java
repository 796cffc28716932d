package io.streamlease.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the engine reports about itself: the counts of what it did since it started (the snapshot is
 * {@link EngineCounters}), each reported to the {@link EngineMetrics} as it is counted, and what its last renewal
 * and sweep saw of the service (the live consumers, the LBS entries pending, when the session was last renewed).
 */
final class EngineStatus {

	private final EngineMetrics metrics;

	private final LongAdder added = new LongAdder();

	private final LongAdder claimed = new LongAdder();

	private final LongAdder completed = new LongAdder();

	private final LongAdder disowned = new LongAdder();

	private final LongAdder handedOff = new LongAdder();

	private final LongAdder deadLettered = new LongAdder();

	private final LongAdder duplicates = new LongAdder();

	private volatile long lbsPending;

	private volatile List<String> liveConsumers = List.of();

	private volatile Instant lastRenewal;

	EngineStatus(EngineMetrics metrics) {
		this.metrics = metrics;
	}

	/** A new lease: claimed when recovered (from a peer, a lapse or a handoff), else added from the LBS. */
	void acquired(Lease lease) {
		if (lease.recovered()) {
			this.claimed.increment();
		}
		else {
			this.added.increment();
		}
		this.metrics.leaseAcquired(lease.name(), lease.recovered());
		this.metrics.streamProcessingStarted(lease.name());
	}

	/** An LBS entry arrived for a stream already held (recorded as a resubmission). */
	void duplicate(String stream) {
		this.duplicates.increment();
		this.metrics.duplicateSubmission(stream);
	}

	/** A held stream was finished. */
	void completed(Lease lease) {
		this.completed.increment();
		this.metrics.leaseReleased(lease.name(), "done");
		this.metrics.streamProcessingEnded(lease.name(), Duration.ofNanos(System.nanoTime() - lease.acquiredNanos()));
	}

	/** A held lease was lost. */
	void disowned(Lease lease, String reason) {
		this.disowned.increment();
		this.metrics.disowned(lease.name(), reason);
	}

	/** Streams were handed off to peers (the handoff succeeded on the server). */
	void handedOff(int count) {
		this.handedOff.add(count);
		this.metrics.handedOff(count);
	}

	/** Streams were moved off by a rebalance: handed off, and counted as rebalanced too. */
	void rebalanced(int count) {
		handedOff(count);
		this.metrics.rebalanced(count);
	}

	/** An LBS entry was moved to the dead-letter stream. */
	void deadLettered(DeadLetterReason reason) {
		this.deadLettered.increment();
		this.metrics.deadLettered(reason);
	}

	/** The counts so far. */
	EngineCounters counters() {
		return new EngineCounters(this.added.sum(), this.claimed.sum(), this.completed.sum(), this.disowned.sum(),
				this.handedOff.sum(), this.deadLettered.sum(), this.duplicates.sum());
	}

	/** How many LBS entries were pending in the group at the last sweep. */
	long lbsPending() {
		return this.lbsPending;
	}

	void lbsPending(long pending) {
		this.lbsPending = pending;
	}

	/** The live consumers of the service at the last renewal or sweep. */
	List<String> liveConsumers() {
		return this.liveConsumers;
	}

	void liveConsumers(List<String> live) {
		this.liveConsumers = List.copyOf(live);
	}

	/** When the last renewal succeeded (start time until the first one), or null before the start. */
	Instant lastRenewal() {
		return this.lastRenewal;
	}

	void renewed() {
		this.lastRenewal = Instant.now();
	}

}
