package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews every held lease in batches: each tick (every hb-interval / 2) sends one script call per chunk of
 * renewal-chunk-size leases, all at once, whatever the number of leases; the first chunk also renews this
 * consumer's registration and returns the live consumers. A lease found gone or foreign is disowned at once.
 * <p>
 * The local safety deadline: a lease whose last confirmed renewal was sent more than 80% of the TTL ago may
 * lapse on the server any moment, so it is disowned locally (checked every TTL / 20) before that can happen.
 * A failed tick is retried with back-off instead of waiting for the next tick; a tick that comes due while the
 * previous one still waits for Redis runs as soon as that one is answered.
 */
final class LeaseRenewer {

	private static final Logger logger = LoggerFactory.getLogger(LeaseRenewer.class);

	private final StreamLeaseClient client;

	private final EngineSettings settings;

	private final LeaseStore store;

	private final ScheduledExecutorService scheduler;

	private final AtomicBoolean inFlight = new AtomicBoolean();

	private volatile boolean overdue;

	private final long safetyNanos;

	private int failures;

	private volatile long lastSuccessNanos = System.nanoTime();

	LeaseRenewer(StreamLeaseClient client, ScheduledExecutorService scheduler) {
		this.client = client;
		this.settings = client.settings();
		this.store = client.store();
		this.scheduler = scheduler;
		this.safetyNanos = safetyWindow(this.settings.hbInterval()).toNanos();
	}

	/** How long after sending a renewal a lease counts as safely held: 80% of the TTL. */
	static Duration safetyWindow(Duration hbInterval) {
		return hbInterval.multipliedBy(4).dividedBy(5);
	}

	long safeUntil(long sentNanos) {
		return sentNanos + this.safetyNanos;
	}

	void start() {
		long tick = Math.max(1, this.settings.hbInterval().toMillis() / 2);
		this.scheduler.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
		long check = Math.max(5, this.settings.hbInterval().toMillis() / 20);
		this.scheduler.scheduleWithFixedDelay(this::checkSafetyDeadlines, check, check, TimeUnit.MILLISECONDS);
	}

	/**
	 * One renewal tick; skipped while the previous one is still waiting for Redis.
	 */
	void tick() {
		if (!this.client.isRunning()) {
			return;
		}
		if (!this.inFlight.compareAndSet(false, true)) {
			// the previous tick still waits for Redis: run the next one as soon as it is answered (and check again,
			// in case it was answered between the two steps)
			this.overdue = true;
			if (!this.inFlight.compareAndSet(false, true)) {
				return;
			}
		}
		this.overdue = false;
		try {
			List<Lease> held = new ArrayList<>();
			for (Lease lease : this.client.leases()) {
				if (lease.state() == Lease.State.HELD) {
					held.add(lease);
				}
			}
			long sent = System.nanoTime();
			int chunk = this.settings.renewalChunkSize();
			List<CompletableFuture<Void>> calls = new ArrayList<>();
			int[] lost = new int[1];
			for (int from = 0; from == 0 || from < held.size(); from += chunk) {
				List<Lease> part = held.subList(from, Math.min(held.size(), from + chunk));
				List<String> streams = new ArrayList<>(part.size());
				List<String> expected = new ArrayList<>(part.size());
				for (Lease lease : part) {
					streams.add(lease.name());
					expected.add(lease.expectedValue());
				}
				boolean heartbeat = (from == 0);
				calls.add(this.store.renew(streams, expected, heartbeat)
					.thenAcceptAsync((renewal) -> applied(renewal, part, sent, heartbeat, lost), this.scheduler));
			}
			CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).whenCompleteAsync((ignored, failure) -> {
				this.inFlight.set(false);
				Duration took = Duration.ofNanos(System.nanoTime() - sent);
				this.client.metrics().renewal(held.size(), lost[0], failure == null, took);
				if (failure == null) {
					this.failures = 0;
					this.lastSuccessNanos = sent;
					this.client.renewed();
					if (this.overdue && this.client.isRunning()) {
						this.scheduler.execute(this::tick);
					}
				}
				else {
					this.failures++;
					Duration retry = this.settings.retry().delay(this.failures);
					Duration cap = this.settings.hbInterval().dividedBy(10);
					if (retry.compareTo(cap) > 0) {
						retry = cap;
					}
					boolean goOn = this.client.redisFailed("renewing " + held.size() + " leases (retry in " + retry.toMillis()
							+ " ms)", LeaseScript.unwrap(failure));
					if (goOn && this.client.isRunning()) {
						this.scheduler.schedule(this::tick, Math.max(1, retry.toMillis()), TimeUnit.MILLISECONDS);
					}
				}
			}, this.scheduler);
		}
		catch (RuntimeException ex) {
			this.inFlight.set(false);
			this.client.redisFailed("renewing leases", ex);
		}
	}

	private void applied(LeaseStore.Renewal renewal, List<Lease> part, long sent, boolean heartbeat, int[] lost) {
		if (heartbeat) {
			if ("TAKEN".equals(renewal.registration())) {
				this.client.terminate("consumer id '" + this.client.id() + "' was registered by another instance while this "
						+ "one could not renew its registration (stalled or partitioned); this instance stops", null);
				return;
			}
			this.client.liveConsumers(renewal.liveConsumers());
		}
		boolean[] gone = new boolean[part.size()];
		for (int position : renewal.lostPositions()) {
			gone[position - 1] = true;
		}
		List<Lease> stillOnServer = new ArrayList<>();
		for (int i = 0; i < part.size(); i++) {
			Lease lease = part.get(i);
			if (gone[i]) {
				lost[0]++;
				this.client.disown(lease, "the renewal found the lease gone or held by another consumer");
			}
			else if (lease.state() == Lease.State.HELD) {
				long until = safeUntil(sent);
				if (until - lease.safeUntilNanos > 0) {
					lease.safeUntilNanos = until;
				}
			}
			else if (lease.state() == Lease.State.DISOWNED) {
				stillOnServer.add(lease);
			}
		}
		if (!stillOnServer.isEmpty()) {
			// disowned locally while this renewal was on its way: give them back so that peers need not wait
			this.client.release(stillOnServer);
		}
	}

	/**
	 * Disowns every lease whose local safety deadline passed.
	 */
	void checkSafetyDeadlines() {
		long now = System.nanoTime();
		if (this.client.isRedisReachable() && now - this.lastSuccessNanos > this.safetyNanos) {
			this.client.redisFailed("renewing leases", new RedisCallException("no renewal was confirmed for "
					+ TimeUnit.NANOSECONDS.toMillis(now - this.lastSuccessNanos) + " ms", null));
		}
		for (Lease lease : this.client.leases()) {
			if (lease.state() == Lease.State.HELD && now - lease.safeUntilNanos >= 0) {
				this.client.disown(lease, "no renewal was confirmed within the local safety deadline ("
						+ safetyWindow(this.settings.hbInterval()).toMillis() + " ms): Redis unreachable or this process stalled");
			}
		}
	}

	int failures() {
		return this.failures;
	}

}
