package io.streamlease.engine;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The periodic sweep, always on: keyspace events are at-most-once, may arrive tens of seconds late, and may be
 * unavailable, so every sweep-interval (jittered down by up to 20%, so that the interval is a bound) it looks
 * for leases whose deadline passed and for LBS entries pending for consumers that are gone, and hands them to
 * the claim worker. Candidates that do not fit in the broker input wait for the next sweep.
 */
final class LeaseSweeper {

	private static final int PENDING_PAGE = 100;

	/** Every this many sweeps, check that the server still sends keyspace events (a restart forgets CONFIG SET). */
	private static final int CONFIG_CHECK_EVERY = 20;

	private int sweeps;

	private final StreamLeaseClient client;

	private final EngineSettings settings;

	private final LeaseStore store;

	private final ScheduledExecutorService scheduler;

	private final BlockingQueue<ClaimCandidate> brokerInput;

	LeaseSweeper(StreamLeaseClient client, ScheduledExecutorService scheduler, BlockingQueue<ClaimCandidate> brokerInput) {
		this.client = client;
		this.settings = client.settings();
		this.store = client.store();
		this.scheduler = scheduler;
		this.brokerInput = brokerInput;
	}

	void start() {
		scheduleNext();
	}

	private void scheduleNext() {
		if (!this.client.isRunning()) {
			return;
		}
		long interval = this.settings.sweepInterval().toMillis();
		long delay = Math.max(1, interval - ThreadLocalRandom.current().nextLong(interval / 5 + 1));
		this.scheduler.schedule(this::sweepAndReschedule, delay, TimeUnit.MILLISECONDS);
	}

	private void sweepAndReschedule() {
		try {
			if (++this.sweeps % CONFIG_CHECK_EVERY == 0) {
				this.client.checkKeyspaceConfiguration();
			}
			sweep();
		}
		catch (RuntimeException ex) {
			this.client.redisFailed("sweeping for lapsed leases", ex);
		}
		finally {
			scheduleNext();
		}
	}

	/**
	 * One sweep; returns how many candidates it found.
	 */
	int sweep() {
		LeaseStore.Sweep sweep = this.store.sweep(this.settings.brokerInputSize(), this.settings.hbInterval().multipliedBy(10));
		this.client.liveConsumers(sweep.live());
		this.client.lbsPending(sweep.pendingByConsumer().values().stream().mapToLong(Long::longValue).sum());
		if (!this.client.isReading()) {
			return 0;
		}
		int found = 0;
		for (String stream : sweep.lapsed()) {
			if (!this.client.holds(stream)) {
				found++;
				if (!this.brokerInput.offer(ClaimCandidate.of(stream, "sweep"))) {
					break;
				}
			}
		}
		Set<String> live = new HashSet<>(sweep.live());
		for (Map.Entry<String, Long> consumer : sweep.pendingByConsumer().entrySet()) {
			if (live.contains(consumer.getKey()) || consumer.getKey().equals(this.client.id())) {
				continue;
			}
			found += orphansOf(consumer.getKey());
		}
		if (found > 0) {
			this.client.candidatesQueued();
			this.client.metrics().sweepOrphansFound(found);
		}
		return found;
	}

	/**
	 * Entries pending for a consumer that is gone: malformed ones are dead-lettered, deleted ones acknowledged,
	 * the others become claim candidates (the acquire script refuses any whose lease is held).
	 */
	private int orphansOf(String consumer) {
		List<LeaseStore.Pending> page = this.store.pending(consumer, Duration.ZERO, "-", PENDING_PAGE);
		int found = 0;
		for (LeaseStore.Pending pending : page) {
			if (pending.fields().isEmpty()) {
				this.store.acknowledge(List.of(pending.id()));
				continue;
			}
			LbsEntry entry = LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize());
			if (!entry.valid()) {
				this.client.deadLetter(entry);
				continue;
			}
			if (!this.client.holds(entry.stream())) {
				found++;
				if (!this.brokerInput.offer(new ClaimCandidate(entry.stream(), entry.id(), "sweep", null))) {
					break;
				}
			}
		}
		return found;
	}

}
