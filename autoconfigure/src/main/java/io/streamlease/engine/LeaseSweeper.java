package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The periodic sweep, always on: keyspace events are at-most-once, may arrive tens of seconds late, and may be
 * unavailable, so every sweep-interval (jittered down by up to 20%, so that the interval is a bound) it looks
 * for leases whose deadline passed and for LBS entries pending for consumers that are gone, and hands them to
 * the claim worker in batches (one per page). A batch that does not fit in the broker input waits for the next
 * sweep. A dropped keyspace event triggers a sweep at once.
 */
final class LeaseSweeper {

	private static final int PENDING_PAGE = 100;

	/** Lease index entries examined per sweep call; a full page is followed by another at once. */
	static final int INDEX_PAGE = 5000;

	/** Pages one sweep goes through at most before it yields to the other scheduled work. */
	private static final int MAX_PAGES = 20;

	/** How soon a sweep follows a dropped notification. */
	private static final Duration SOON = Duration.ofMillis(50);

	/** Sweeps triggered by drops come at most this often. */
	private static final Duration MIN_SPACING = Duration.ofMillis(200);

	private final AtomicBoolean soon = new AtomicBoolean();

	private volatile long lastSweepNanos = System.nanoTime();

	private int strays;

	/** Every this many sweeps, check that the server still sends keyspace events (a restart forgets CONFIG SET). */
	private static final int CONFIG_CHECK_EVERY = 20;

	private int sweeps;

	private final StreamLeaseClient client;

	private final EngineSettings settings;

	private final LeaseStore store;

	private final ScheduledExecutorService scheduler;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	LeaseSweeper(StreamLeaseClient client, ScheduledExecutorService scheduler,
			BlockingQueue<List<ClaimCandidate>> brokerInput) {
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
	 * Sweeps again shortly (at most every 200 ms): a keyspace event or a handoff message did not fit in its queue,
	 * and the sweep finds what it was about (handed-off leases are marked lapsed in the index).
	 */
	void sweepSoon() {
		sweepSoon(MIN_SPACING);
	}

	private void sweepSoon(Duration spacing) {
		if (this.client.isRunning() && this.soon.compareAndSet(false, true)) {
			long sinceLast = System.nanoTime() - this.lastSweepNanos;
			long delay = Math.max(SOON.toMillis(), spacing.toMillis() - TimeUnit.NANOSECONDS.toMillis(sinceLast));
			this.scheduler.schedule(() -> {
				this.soon.set(false);
				try {
					sweep();
				}
				catch (RuntimeException ex) {
					this.client.redisFailed("sweeping for lapsed leases", ex);
				}
			}, delay, TimeUnit.MILLISECONDS);
		}
	}

	/**
	 * One sweep: pages through the lease index while pages come back full, then looks at the entries pending for
	 * consumers that are gone; every page's candidates go to the claim worker as one batch. Returns how many
	 * candidates it found.
	 */
	int sweep() {
		this.lastSweepNanos = System.nanoTime();
		int found = 0;
		int skip = 0;
		for (int page = 0; page < MAX_PAGES; page++) {
			LeaseStore.Sweep sweep = this.store.sweep(INDEX_PAGE, skip, this.settings.hbInterval().multipliedBy(10));
			skip += sweep.lapsed().size();
			if (page == 0) {
				this.client.liveConsumers(sweep.live());
				this.client.lbsPending(sweep.pendingByConsumer().values().stream().mapToLong(Long::longValue).sum());
				if (!this.client.isReading()) {
					return 0;
				}
				found += orphansOfGoneConsumers(sweep);
			}
			List<ClaimCandidate> lapsed = new ArrayList<>(sweep.lapsed().size());
			for (String stream : sweep.lapsed()) {
				if (!this.client.holds(stream)) {
					lapsed.add(ClaimCandidate.of(stream, "sweep"));
				}
			}
			found += offer(lapsed);
			if (sweep.examined() < INDEX_PAGE) {
				break;
			}
		}
		if (found > 0) {
			this.client.metrics().sweepOrphansFound(found);
		}
		return found;
	}

	private int orphansOfGoneConsumers(LeaseStore.Sweep sweep) {
		Set<String> live = new HashSet<>(sweep.live());
		int found = 0;
		// entries pending for this consumer that it does not hold (a read whose follow-up calls all failed, or a
		// stream it lost): seen twice in a row, so that an acquisition in flight is not mistaken for one
		Long mine = sweep.pendingByConsumer().get(this.client.id());
		this.strays = (mine != null && mine > this.client.ownedCount()) ? this.strays + 1 : 0;
		if (this.strays >= 2) {
			this.strays = 0;
			found += strayEntries();
		}
		for (Map.Entry<String, Long> consumer : sweep.pendingByConsumer().entrySet()) {
			if (!live.contains(consumer.getKey()) && !consumer.getKey().equals(this.client.id())) {
				found += offer(orphansOf(consumer.getKey(), Duration.ZERO));
			}
		}
		return found;
	}

	/**
	 * Hands a batch to the claim worker; when the broker input is full, another sweep follows after a quarter of
	 * the sweep interval.
	 */
	private int offer(List<ClaimCandidate> batch) {
		if (batch.isEmpty()) {
			return 0;
		}
		if (!this.brokerInput.offer(batch)) {
			// the claim worker is behind: sweep again a little later (not every 200 ms: it may be waiting for the
			// application to take its events)
			Duration spacing = this.settings.sweepInterval().dividedBy(4);
			sweepSoon((spacing.compareTo(MIN_SPACING) > 0) ? spacing : MIN_SPACING);
			return 0;
		}
		this.client.candidatesQueued();
		return batch.size();
	}

	/**
	 * Entries pending for a consumer that is gone: malformed ones are dead-lettered, deleted ones acknowledged,
	 * the others become claim candidates (the acquire script refuses any whose lease is held).
	 */
	/**
	 * Pages through this consumer's own pending entries idle for at least hb-interval and takes back those it does
	 * not hold (claimed again, dead-lettered or acknowledged like any orphan).
	 */
	private int strayEntries() {
		int found = 0;
		String after = "-";
		while (this.client.isReading()) {
			List<LeaseStore.Pending> page = this.store.pending(this.client.id(), this.settings.hbInterval(), after,
					this.settings.lbsRecoveryCount());
			if (page.isEmpty()) {
				break;
			}
			found += offer(orphans(page));
			after = page.get(page.size() - 1).id();
		}
		return found;
	}

	private List<ClaimCandidate> orphansOf(String consumer, Duration minIdle) {
		return orphans(this.store.pending(consumer, minIdle, "-", PENDING_PAGE));
	}

	private List<ClaimCandidate> orphans(List<LeaseStore.Pending> page) {
		List<ClaimCandidate> orphans = new ArrayList<>();
		for (LeaseStore.Pending pending : page) {
			if (pending.fields().isEmpty()) {
				this.store.acknowledge(List.of(pending.id()));
				continue;
			}
			LbsEntry entry = LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize());
			if (!entry.valid()) {
				this.client.deadLetter(entry);
			}
			else if (!this.client.holds(entry.stream())) {
				orphans.add(new ClaimCandidate(entry.stream(), entry.id(), "sweep", null));
			}
		}
		return orphans;
	}

}
