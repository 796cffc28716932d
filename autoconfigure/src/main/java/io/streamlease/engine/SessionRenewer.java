package io.streamlease.engine;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Keeps this consumer's session live: one renewal call per tick (every hb-interval / 2) whatever the number of
 * held streams, since their ownership records are valid while the session is. The reply lists the live consumers.
 * <p>
 * The local safety deadline: when no renewal was confirmed within 80% of hb-interval of being sent, the session
 * may lapse on the server at any moment, so every held stream is disowned locally at once (checked every
 * hb-interval / 20) and the session is abandoned: the next tick registers a new one (ending the old one on the
 * server, so that its streams are claimable at once, by peers or by this consumer). A renewal that finds the
 * session lapsed does the same. A failed tick is retried with back-off (at most hb-interval / 10) instead of
 * waiting for the next tick; a tick that comes due while the previous one still waits for Redis runs as soon as
 * that one is answered.
 */
final class SessionRenewer {

	/** What the renewer needs of the engine. */
	interface Host {

		boolean isRunning();

		/** The session was renewed: its live consumers (ms left on each session). */
		void renewed(java.util.Map<String, Long> live);

		/** The session was renewed: the whole reply (live consumers, their loads, the service's total). */
		default void renewed(LeaseStore.Renewal renewal) {
			renewed(renewal.live());
		}

		/** The capacity this consumer publishes with each renewal (max-concurrent-streams). */
		default long capacity() {
			return 0;
		}

		/** The session is gone (lapsed, abandoned): disown every held stream with the reason. */
		void sessionLost(String reason);

		/** Registers a new session; false when it could not (another live instance holds the consumer id). */
		boolean openSession();

		/** Another instance registered this consumer id: the engine stops. */
		void sessionTaken();

		/** How many streams are held (for metrics). */
		int heldCount();

		/** Reports a failed call; false when the engine terminates. */
		boolean redisFailed(String what, Throwable failure);

		/** Reports that no renewal was confirmed for a while (health). */
		void renewalOverdue(long millis);

		EngineMetrics metrics();

	}

	private final Host host;

	private final EngineSettings settings;

	private final LeaseStore store;

	private final Session session;

	private final ScheduledExecutorService scheduler;

	private final AtomicBoolean inFlight = new AtomicBoolean();

	private volatile boolean overdue;

	private int failures;

	private volatile long lastSuccessNanos = System.nanoTime();

	SessionRenewer(Host host, EngineSettings settings, LeaseStore store, Session session,
			ScheduledExecutorService scheduler) {
		this.host = host;
		this.settings = settings;
		this.store = store;
		this.session = session;
		this.scheduler = scheduler;
	}

	void start() {
		long tick = Math.max(1, this.settings.hbInterval().toMillis() / 2);
		this.scheduler.scheduleWithFixedDelay(this::tick, tick, tick, TimeUnit.MILLISECONDS);
		long check = Math.max(5, this.settings.hbInterval().toMillis() / 20);
		this.scheduler.scheduleWithFixedDelay(this::checkSafetyDeadline, check, check, TimeUnit.MILLISECONDS);
	}

	/**
	 * One renewal tick (or a registration, when the session was abandoned); skipped while the previous call still
	 * waits for Redis.
	 */
	void tick() {
		if (!this.host.isRunning()) {
			return;
		}
		if (!this.inFlight.compareAndSet(false, true)) {
			this.overdue = true;
			if (!this.inFlight.compareAndSet(false, true)) {
				return;
			}
		}
		this.overdue = false;
		String sessionId = this.session.id();
		if (sessionId == null) {
			reopen();
			return;
		}
		long sent = System.nanoTime();
		int held = this.host.heldCount();
		try {
			this.store.renew(sessionId, this.host.capacity(), held).whenCompleteAsync((renewal, failure) -> {
				this.inFlight.set(false);
				Duration took = Duration.ofNanos(System.nanoTime() - sent);
				boolean success = failure == null && renewal.status() == LeaseStore.RenewalStatus.OK;
				this.host.metrics().renewal(held, success ? 0 : held, failure == null, took);
				if (failure != null) {
					failed(held, failure);
					return;
				}
				this.failures = 0;
				switch (renewal.status()) {
					case OK -> {
						if (sessionId.equals(this.session.id())) {
							this.session.renewed(sent);
							this.lastSuccessNanos = sent;
						}
						this.host.renewed(renewal);
					}
					case LAPSED -> this.host.sessionLost("the renewal found the session lapsed on the server (it could "
							+ "not be renewed in time): its streams may have been claimed by peers");
					case TAKEN -> this.host.sessionTaken();
				}
				if (this.overdue && this.host.isRunning()) {
					this.scheduler.execute(this::tick);
				}
			}, this.scheduler);
		}
		catch (RuntimeException ex) {
			this.inFlight.set(false);
			this.host.redisFailed("renewing the session", ex);
		}
	}

	private void reopen() {
		try {
			if (this.host.openSession()) {
				this.failures = 0;
				this.lastSuccessNanos = System.nanoTime();
			}
			this.inFlight.set(false);
			if (this.overdue && this.host.isRunning()) {
				this.scheduler.execute(this::tick);
			}
		}
		catch (RuntimeException ex) {
			this.inFlight.set(false);
			failed(0, ex);
		}
	}

	private void failed(int held, Throwable failure) {
		this.failures++;
		Duration retry = this.settings.retry().delay(this.failures);
		Duration cap = this.settings.hbInterval().dividedBy(10);
		if (retry.compareTo(cap) > 0) {
			retry = cap;
		}
		boolean goOn = this.host.redisFailed("renewing the session of " + held + " streams (retry in " + retry.toMillis()
				+ " ms)", LeaseScript.unwrap(failure));
		if (goOn && this.host.isRunning()) {
			this.scheduler.schedule(this::tick, Math.max(1, retry.toMillis()), TimeUnit.MILLISECONDS);
		}
	}

	/**
	 * Abandons the session, and disowns every held stream, when its local safety deadline passed.
	 */
	void checkSafetyDeadline() {
		if (!this.host.isRunning() || this.session.id() == null) {
			return;
		}
		long now = System.nanoTime();
		if (!this.session.isSafe()) {
			this.host.renewalOverdue(TimeUnit.NANOSECONDS.toMillis(now - this.lastSuccessNanos));
			this.host.sessionLost("no renewal of the session was confirmed within the local safety deadline ("
					+ this.session.safetyWindow().toMillis() + " ms): Redis unreachable or this process stalled");
		}
	}

	int failures() {
		return this.failures;
	}

}
