package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

import io.streamlease.DuplicateConsumerException;
import io.streamlease.StreamLeaseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This consumer's registration and what happens to its session, what the {@link SessionRenewer} reports to:
 * registers at start (waiting for an earlier instance with the same consumer id to lapse, refusing a live one),
 * passes every renewal on (live consumers, the time of the renewal, the sweeper's watch of the peers' deadlines, the
 * rebalancer), disowns every held stream when the session is lost, and registers again, taking back its own pending
 * entries. Another instance registered with this consumer id ends the engine.
 */
final class ConsumerRegistration implements SessionRenewer.Host {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	private final EngineSettings settings;

	private final LeaseStore store;

	private final Session session;

	private final HeldStreams held;

	private final LeaseOwner owner;

	private final EngineRuntime runtime;

	private final EngineStatus status;

	private final RedisReachability reachability;

	private final EngineMetrics metrics;

	private final RedisFailures failures;

	private final BiConsumer<String, Throwable> terminate;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	private final Runnable queued;

	private volatile SessionRenewer renewer;

	private volatile LeaseSweeper sweeper;

	private volatile Rebalancer rebalancer;

	/**
	 * @param terminate ends the engine with the reason and the cause (another instance took the consumer id)
	 * @param brokerInput where a new session's own pending entries go as a candidate (to the claim worker)
	 * @param queued wakes the claim worker after a candidate was queued
	 */
	ConsumerRegistration(EngineSettings settings, LeaseStore store, Session session, HeldStreams held,
			LeaseOwner owner, EngineRuntime runtime, EngineStatus status, RedisReachability reachability,
			EngineMetrics metrics, RedisFailures failures, BiConsumer<String, Throwable> terminate,
			BlockingQueue<List<ClaimCandidate>> brokerInput, Runnable queued) {
		this.settings = settings;
		this.store = store;
		this.session = session;
		this.held = held;
		this.owner = owner;
		this.runtime = runtime;
		this.status = status;
		this.reachability = reachability;
		this.metrics = metrics;
		this.failures = failures;
		this.terminate = terminate;
		this.brokerInput = brokerInput;
		this.queued = queued;
	}

	/** The components that started with the engine: renewals are passed on to them from now on. */
	void started(SessionRenewer renewer, LeaseSweeper sweeper, Rebalancer rebalancer) {
		this.renewer = renewer;
		this.sweeper = sweeper;
		this.rebalancer = rebalancer;
	}

	/**
	 * Registers this consumer at start, waiting up to one hb-interval for an earlier instance with the same consumer
	 * id to lapse.
	 * @throws DuplicateConsumerException if a live consumer uses this consumer id
	 */
	void register() {
		long deadline = System.nanoTime() + this.settings.hbInterval().plusMillis(200).toNanos();
		while (true) {
			long sent = System.nanoTime();
			LeaseStore.Registration registration = this.store.register();
			if (!registration.taken()) {
				this.session.opened(registration.sessionId(), sent);
				return;
			}
			long left = registration.takenForMillis();
			if (System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(left) - deadline > 0) {
				throw new DuplicateConsumerException("Consumer id '" + id() + "' is already used by a live consumer of service '"
						+ this.settings.serviceName() + "' (its session keeps being renewed). Two instances with one id "
						+ "would process the same streams: give every instance a unique consumer id "
						+ "(stream-lease.consumer-id, or the POD_NAME environment variable).");
			}
			logger.info("Consumer id '{}' of service '{}' is still registered by an earlier instance; waiting {} ms for it "
					+ "to lapse", id(), this.settings.serviceName(), left);
			if (!this.runtime.sleepWhileRunning(Duration.ofMillis(Math.max(10, left + 10)))) {
				throw new StreamLeaseException("Start of service '" + this.settings.serviceName() + "' was interrupted");
			}
		}
	}

	@Override
	public void renewed(LeaseStore.Renewal renewal) {
		renewed(renewal.live());
		Rebalancer current = this.rebalancer;
		if (current != null) {
			current.renewed(renewal);
		}
	}

	@Override
	public long capacity() {
		// paused: peers count no share for it, so that no rebalance hands it streams it would not take
		return this.runtime.isPaused() ? 0 : this.settings.maxConcurrentStreams();
	}

	@Override
	public boolean isRunning() {
		return this.runtime.isRunning();
	}

	@Override
	public void renewed(Map<String, Long> live) {
		this.status.liveConsumers(new ArrayList<>(live.keySet()));
		this.status.renewed();
		this.reachability.succeeded();
		long earliest = Long.MAX_VALUE;
		for (Map.Entry<String, Long> peer : live.entrySet()) {
			if (!peer.getKey().equals(id())) {
				earliest = Math.min(earliest, peer.getValue());
			}
		}
		LeaseSweeper current = this.sweeper;
		if (current != null && earliest != Long.MAX_VALUE) {
			current.watchDeadline(Duration.ofMillis(earliest));
		}
	}

	/**
	 * The session is gone, or may be: disowns every held stream at once, before any fenced write of theirs can be
	 * accepted, and abandons the session; the renewer registers a new one (ending this one on the server, so that
	 * its streams are claimable at once, by peers or by this consumer).
	 */
	@Override
	public void sessionLost(String reason) {
		String abandoned = this.session.abandon();
		int count = this.owner.disownAll(reason);
		if (abandoned != null) {
			logger.warn("Consumer '{}' of service '{}' lost its session ({}): {} streams disowned; registering again",
					id(), this.settings.serviceName(), reason, count);
			SessionRenewer current = this.renewer;
			if (current != null && this.runtime.isRunning()) {
				this.runtime.execute(current::tick);
			}
		}
	}

	/**
	 * Opens a new session after the last one was lost; then takes back what it can of its own pending entries.
	 * @return whether a session is open now
	 */
	@Override
	public boolean openSession() {
		long sent = System.nanoTime();
		LeaseStore.Registration registration = this.store.register();
		if (registration.taken()) {
			this.terminate.accept("consumer id '" + id() + "' of service '" + this.settings.serviceName() + "' was "
					+ "registered by another instance while this one could not renew its session; this instance stops", null);
			return false;
		}
		this.session.opened(registration.sessionId(), sent);
		logger.info("Consumer '{}' of service '{}' registered again (session {})", id(), this.settings.serviceName(),
				registration.sessionId());
		if (!this.session.isSafe() || System.nanoTime() - sent > this.settings.hbInterval().toNanos() / 4) {
			// the registration was answered late (Redis slow or just back): renew at once, so that the new session's
			// safety deadline starts from a fresh call instead of lapsing right away
			SessionRenewer current = this.renewer;
			if (current != null) {
				this.runtime.execute(current::tick);
			}
		}
		List<ClaimCandidate> own = List.of(ClaimCandidate.ofConsumer(id(), "session"));
		if (this.brokerInput.offer(own)) {
			this.queued.run();
		}
		return true;
	}

	@Override
	public void sessionTaken() {
		this.terminate.accept("consumer id '" + id() + "' was registered by another instance while this one could not "
				+ "renew its session (stalled or partitioned); this instance stops", null);
	}

	@Override
	public int heldCount() {
		return this.held.size();
	}

	@Override
	public boolean redisFailed(String what, Throwable failure) {
		return this.failures.failed(what, failure);
	}

	@Override
	public void renewalOverdue(long millis) {
		if (this.reachability.isReachable()) {
			// a transient fault: recorded (health DOWN), as every failed call is
			this.failures.failed("renewing the session", new RedisCallException("no renewal was confirmed for " + millis
					+ " ms", null));
		}
	}

	@Override
	public EngineMetrics metrics() {
		return this.metrics;
	}

	private String id() {
		return this.settings.consumerId();
	}

}
