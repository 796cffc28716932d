package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The periodic sweep, always on: keyspace events are at-most-once, may arrive tens of seconds late, and may be
 * unavailable, so every sweep-interval (jittered down by up to 20%, so that the interval is a bound) it looks for
 * consumers with entries pending whose sessions lapsed or ended, and for streams handed off alone that nobody
 * claimed, and hands them to the claim worker. Its cost does not grow with the number of streams. A batch that does
 * not fit in the broker input waits for the next sweep. A dropped keyspace event triggers a sweep at once.
 */
final class LeaseSweeper {

	/** Streams handed off alone that one sweep returns at most. */
	private static final int RELEASED_PAGE = 1000;

	/** How soon a sweep follows a dropped notification. */
	private static final Duration SOON = Duration.ofMillis(50);

	/** Sweeps triggered by drops come at most this often. */
	private static final Duration MIN_SPACING = Duration.ofMillis(200);

	private final AtomicBoolean soon = new AtomicBoolean();

	/** How long after a peer's session deadline the deadline watch sweeps (server and local clocks differ a little). */
	private static final Duration DEADLINE_MARGIN = Duration.ofMillis(20);

	private volatile ScheduledFuture<?> deadlineWatch;

	private volatile long lastSweepNanos = System.nanoTime();

	private int strays;

	/** Every this many sweeps, check that the server still sends keyspace events (a restart forgets CONFIG SET). */
	private static final int CONFIG_CHECK_EVERY = 20;

	private int sweeps;

	private final EngineSettings settings;

	private final LeaseStore store;

	private final EngineRuntime runtime;

	private final ScheduledExecutorService scheduler;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	private final HeldStreams held;

	private final EngineStatus status;

	private final Rebalancer rebalancer;

	private final EngineMetrics metrics;

	private final RedisFailures failures;

	private final Runnable checkKeyspace;

	private final Runnable queued;

	/**
	 * @param brokerInput where the candidates go (to the claim worker)
	 * @param status receives the live consumers and the LBS entries pending
	 * @param rebalancer tells whether this consumer released streams for a rebalance lately (not strays then)
	 * @param checkKeyspace checks the keyspace notification settings again (every twentieth sweep)
	 * @param queued wakes the claim worker after candidates were queued
	 */
	LeaseSweeper(EngineSettings settings, LeaseStore store, EngineRuntime runtime, ScheduledExecutorService scheduler,
			BlockingQueue<List<ClaimCandidate>> brokerInput, HeldStreams held, EngineStatus status, Rebalancer rebalancer,
			EngineMetrics metrics, RedisFailures failures, Runnable checkKeyspace, Runnable queued) {
		this.settings = settings;
		this.store = store;
		this.runtime = runtime;
		this.scheduler = scheduler;
		this.brokerInput = brokerInput;
		this.held = held;
		this.status = status;
		this.rebalancer = rebalancer;
		this.metrics = metrics;
		this.failures = failures;
		this.checkKeyspace = checkKeyspace;
		this.queued = queued;
	}

	void start() {
		scheduleNext();
	}

	private void scheduleNext() {
		if (!this.runtime.isRunning()) {
			return;
		}
		long interval = this.settings.sweepInterval().toMillis();
		long delay = Math.max(1, interval - ThreadLocalRandom.current().nextLong(interval / 5 + 1));
		this.scheduler.schedule(this::sweepAndReschedule, delay, TimeUnit.MILLISECONDS);
	}

	private void sweepAndReschedule() {
		try {
			if (++this.sweeps % CONFIG_CHECK_EVERY == 0) {
				this.checkKeyspace.run();
			}
			sweep();
		}
		catch (RuntimeException ex) {
			this.failures.failed("sweeping for lapsed sessions", ex);
		}
		finally {
			scheduleNext();
		}
	}

	/**
	 * Sweeps right after the earliest session deadline of the peers (given after each renewal, in time left): a
	 * peer that renews moves its deadline on before it comes, so the sweep runs only for a peer that stopped
	 * renewing, the moment its session lapses, whatever keyspace events do.
	 */
	void watchDeadline(Duration untilEarliestPeerDeadline) {
		ScheduledFuture<?> previous = this.deadlineWatch;
		if (previous != null) {
			previous.cancel(false);
		}
		if (this.runtime.isRunning()) {
			this.deadlineWatch = this.scheduler.schedule(() -> {
				try {
					sweep();
				}
				catch (RuntimeException ex) {
					this.failures.failed("sweeping for lapsed sessions", ex);
				}
			}, untilEarliestPeerDeadline.toMillis() + DEADLINE_MARGIN.toMillis(), TimeUnit.MILLISECONDS);
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
		if (this.runtime.isRunning() && this.soon.compareAndSet(false, true)) {
			long sinceLast = System.nanoTime() - this.lastSweepNanos;
			long delay = Math.max(SOON.toMillis(), spacing.toMillis() - TimeUnit.NANOSECONDS.toMillis(sinceLast));
			this.scheduler.schedule(() -> {
				this.soon.set(false);
				try {
					sweep();
				}
				catch (RuntimeException ex) {
					this.failures.failed("sweeping for lapsed sessions", ex);
				}
			}, delay, TimeUnit.MILLISECONDS);
		}
	}

	/**
	 * One sweep, one script call whatever the number of streams: the live consumers; consumers with entries pending
	 * that are not live (their sessions lapsed or ended: their streams are taken over in chunks); this consumer's
	 * own entries that it does not hold (seen twice in a row, so that an acquisition in flight is not mistaken for
	 * one); and streams handed off alone that nobody claimed. Returns how many candidates it queued.
	 */
	int sweep() {
		this.lastSweepNanos = System.nanoTime();
		LeaseStore.Sweep sweep = this.store.sweep(this.settings.hbInterval().multipliedBy(10), RELEASED_PAGE);
		this.status.liveConsumers(new ArrayList<>(sweep.live().keySet()));
		this.status.lbsPending(sweep.pendingByConsumer().values().stream().mapToLong(Long::longValue).sum());
		if (!this.runtime.isTaking()) {
			return 0;
		}
		List<ClaimCandidate> candidates = new ArrayList<>();
		Long mine = sweep.pendingByConsumer().get(this.settings.consumerId());
		// streams this consumer released (a rebalance, a single handoff) stay pending for it until a peer claims them:
		// they are not strays (taking them back would undo the handoff); the sweep offers them as released streams
		long expected = (long) this.held.size() + sweep.released().size();
		boolean rebalancing = this.rebalancer.handedOffWithin(this.settings.hbInterval().multipliedBy(2));
		this.strays = (mine != null && mine > expected && !rebalancing) ? this.strays + 1 : 0;
		if (this.strays >= 2) {
			this.strays = 0;
			candidates.add(ClaimCandidate.ofConsumer(this.settings.consumerId(), "sweep"));
		}
		for (String consumer : sweep.pendingByConsumer().keySet()) {
			if (!sweep.live().containsKey(consumer) && !consumer.equals(this.settings.consumerId())) {
				candidates.add(ClaimCandidate.ofConsumer(consumer, "sweep"));
			}
		}
		sweep.released().forEach((stream, lbsId) -> {
			if (!this.held.holds(stream)) {
				candidates.add(new ClaimCandidate(stream, lbsId, "sweep", null));
			}
		});
		int found = offer(candidates);
		if (found > 0) {
			this.metrics.sweepOrphansFound(found);
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
		this.queued.run();
		return batch.size();
	}

}
