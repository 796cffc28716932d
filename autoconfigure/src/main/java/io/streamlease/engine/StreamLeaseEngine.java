package io.streamlease.engine;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

import io.streamlease.DuplicateConsumerException;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import io.streamlease.StreamLeaseException;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine of one service for one consumer, and its low-level client with the verbs of redis-stream-client-go:
 * {@link #start()} returns the {@link StreamEvents}, {@link #claim(String)}, {@link #doneStream(String)},
 * {@link #done()}, {@link #close()} and {@link #id()}.
 * <p>
 * Plain Java over a {@link RedissonClient}: a constant number of threads whatever the number of held streams
 * (the LBS reader, the claim worker, a two-thread scheduler for renewal, safety checks and the sweep, plus
 * Redisson's own event loop).
 * <pre>{@code
 * EngineSettings settings = EngineSettings.builder("orders", "pod-1").build();
 * try (StreamLeaseEngine client = StreamLeaseEngine.create(redisson, settings)) {
 *     StreamEvents events = client.start();
 *     StreamEvent event = events.take();
 *     if (event.type() == StreamEvent.Type.ADDED) {
 *         process(event.lease());
 *         event.lease().done();
 *     }
 * }
 * }</pre>
 */
public final class StreamLeaseEngine implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	/** How long {@link #pause()} waits for the reader and the claim worker to park. */
	private static final Duration PAUSE_WAIT = Duration.ofSeconds(2);

	private final EngineSettings settings;

	private final EngineMetrics metrics;

	private final LeaseStore store;

	private final Session session;

	private final EventChannel events;

	private final HeldStreams held;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	private final BlockingQueue<String> keyspaceQueue;

	private final KeyspaceListener keyspace;

	private final RedisReachability reachability;

	private final EngineRuntime runtime;

	private final EngineStatus status;

	private final LeaseOwner owner;

	private final DeadLetters deadLetters;

	private final Acquisitions acquisitions;

	private final Handoff handoff;

	private final ConsumerRegistration registration;

	private volatile LeaseSweeper sweeper;

	private final RedissonClient redisson;

	private volatile ClaimWorker claimWorker;

	private volatile Rebalancer rebalancer;

	private StreamLeaseEngine(RedissonClient redisson, EngineSettings settings, EngineMetrics metrics) {
		this.redisson = redisson;
		this.settings = settings;
		this.metrics = (metrics != null) ? metrics : EngineMetrics.NONE;
		byte[] random = new byte[8];
		new SecureRandom().nextBytes(random);
		this.store = new LeaseStore(redisson, settings, HexFormat.of().formatHex(random));
		this.session = new Session(settings.hbInterval());
		this.held = new HeldStreams(settings.maxConcurrentStreams());
		this.reachability = new RedisReachability(settings.serviceName(), this::redisAnswersAgain);
		this.events = new EventChannel(settings.outputChannelSize());
		this.brokerInput = new ArrayBlockingQueue<>(settings.brokerInputSize());
		this.keyspaceQueue = new ArrayBlockingQueue<>(settings.keyspaceChannelSize());
		this.keyspace = new KeyspaceListener(redisson, settings, this.metrics, this.keyspaceQueue, this::candidatesQueued,
				this::notificationDropped);
		this.runtime = new EngineRuntime(settings, this.held::wakeAll);
		this.status = new EngineStatus(this.metrics);
		this.owner = new LeaseOwner(settings, this.store, this.held, this.events, this.status, this.runtime,
				this::redisFailed);
		this.deadLetters = new DeadLetters(settings, this.store, this.held, this.owner, this.status, this.metrics);
		this.acquisitions = new Acquisitions(settings, this.store, this.session, this.held, this.owner, this.deadLetters,
				this.status, this.metrics, this.events, this.runtime::isReading, this.runtime::isTaking);
		this.handoff = new Handoff(redisson, settings, this.store, this.session, this.held, this.status, this.runtime,
				this::redisFailed, this.brokerInput, this::candidatesQueued, this::notificationDropped);
		this.registration = new ConsumerRegistration(settings, this.store, this.session, this.held, this.owner,
				this.runtime, this.status, this.reachability, this.metrics, this::redisFailed, this::terminate,
				this.brokerInput, this::candidatesQueued);
	}

	/**
	 * Creates an engine; nothing touches Redis until {@link #start()}.
	 */
	public static StreamLeaseEngine create(RedissonClient redisson, EngineSettings settings) {
		return create(redisson, settings, EngineMetrics.NONE);
	}

	/**
	 * Creates an engine that reports to {@code metrics}.
	 */
	public static StreamLeaseEngine create(RedissonClient redisson, EngineSettings settings, EngineMetrics metrics) {
		return new StreamLeaseEngine(redisson, settings, metrics);
	}

	/**
	 * Starts the engine: creates the LBS and its group if needed, registers this consumer (waiting up to one
	 * hb-interval for an earlier process with the same id to lapse), enables keyspace notifications as
	 * configured, starts renewal, sweep and claims, then reads the LBS (after startup recovery).
	 * <p>
	 * Waits at most {@link EngineSettings#startupTimeout()} for Redis. When Redis cannot be reached by then, the
	 * engine goes on connecting in the background ({@link EngineState#STARTING}, {@link #isRedisReachable()}
	 * false) and runs as soon as Redis answers, unless {@link EngineSettings#failFast()}: then start fails.
	 * @return the events to consume
	 * @throws DuplicateConsumerException if a live consumer already uses this consumer id
	 * @throws StreamLeaseException if Redis refused the credentials or a command the engine needs, or (fail-fast)
	 * could not be reached within the startup timeout
	 */
	public StreamEvents start() {
		this.runtime.begin();
		this.runtime.startScheduler();
		CompletableFuture<Void> established = new CompletableFuture<>();
		this.runtime.startReader(() -> {
			if (establish(established)) {
				new LbsReader(this.settings, this.store, this.session, this.held, this.runtime, this.acquisitions,
						this.deadLetters, this.metrics, this.reachability, this::redisFailed, this::checkKeyspaceConfiguration,
						this::terminate).run();
			}
		});
		Duration timeout = this.settings.startupTimeout();
		try {
			established.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (TimeoutException ex) {
			String failure = (this.reachability.lastFailure() != null) ? this.reachability.lastFailure() : "no answer";
			if (this.settings.failFast()) {
				String reason = "Redis could not be reached within the startup timeout (" + timeout + "; last failure: "
						+ failure + ")";
				abortStart(reason);
				throw new RedisCallException("Stream Lease could not start service '" + this.settings.serviceName()
						+ "': " + reason + ". Check that Redis is up and reachable, raise the startup timeout, or turn "
						+ "fail-fast off to start and keep trying.", null);
			}
			logger.warn("Redis could not be reached within {} for service '{}' ({}); consumer '{}' goes on connecting "
					+ "in the background (health DOWN until it connects)", timeout, this.settings.serviceName(), failure, id());
			return this.events;
		}
		catch (ExecutionException ex) {
			Throwable cause = ex.getCause();
			abortStart("start failed: " + cause.getMessage());
			if (cause instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new StreamLeaseException(cause.getMessage(), cause);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			abortStart("start was interrupted");
			throw new StreamLeaseException("Start of service '" + this.settings.serviceName() + "' was interrupted", ex);
		}
		return this.events;
	}

	/**
	 * The first connection, on the reader thread: creates the group, registers, subscribes, then starts renewal,
	 * sweep and claims. Transient faults are retried with back-off for as long as the engine runs (or retry.max-retries
	 * allows); a duplicate consumer id or a fatal configuration error ends the engine.
	 * @return whether the engine runs now
	 */
	private boolean establish(CompletableFuture<Void> established) {
		int failures = 0;
		while (this.runtime.isRunning()) {
			try {
				this.store.createGroup();
				this.registration.register();
				this.keyspace.start();
				this.handoff.subscribe();
				if (!this.runtime.startRunning(this::startComponents)) {
					break;
				}
				redisRecovered();
				logger.info("Stream Lease engine started: service '{}', consumer '{}', hb-interval {}, sweep-interval {}, "
						+ "keyspace-notifications {}, max-concurrent-streams {}", this.settings.serviceName(), id(),
						this.settings.hbInterval(), this.settings.sweepInterval(),
						this.settings.keyspaceNotifications().name().toLowerCase(), this.settings.maxConcurrentStreams());
				established.complete(null);
				return true;
			}
			catch (DuplicateConsumerException ex) {
				failStart(established, ex.getMessage(), ex);
				return false;
			}
			catch (RuntimeException ex) {
				if (!this.runtime.isRunning()) {
					break;
				}
				RedisFault fault = RedisFault.of(ex);
				if (fault.fatal()) {
					failStart(established, fault.reason("starting", ex), ex);
					return false;
				}
				if (!RedisFault.unreachable(ex) && ex instanceof StreamLeaseException) {
					// a refusal the engine reported itself (keyspace-notifications on but CONFIG refused)
					failStart(established, ex.getMessage(), ex);
					return false;
				}
				failures++;
				if (this.settings.retry().exhausted(failures)) {
					failStart(established, "could not connect to Redis after " + (failures - 1) + " retries: "
							+ ex.getMessage(), ex);
					return false;
				}
				Duration delay = this.settings.retry().delay(failures);
				if (delay.compareTo(this.settings.hbInterval()) > 0) {
					// a consumer that has not connected yet tries at least once per hb-interval
					delay = this.settings.hbInterval();
				}
				recordFailure("connecting (attempt " + failures + ", next in " + delay.toMillis() + " ms)", ex);
				this.runtime.sleepWhileRunning(delay);
			}
		}
		established.complete(null);
		return false;
	}

	private void failStart(CompletableFuture<Void> established, String reason, RuntimeException failure) {
		if (established.isDone()) {
			// start() no longer waits: the engine ends here, reported as terminated
			terminate(reason, failure);
		}
		else {
			established.completeExceptionally(failure instanceof DuplicateConsumerException ? failure
					: new StreamLeaseException("Stream Lease could not start service '" + this.settings.serviceName()
							+ "': " + reason, failure));
		}
	}

	/** Undoes a start that failed or timed out (fail-fast): nothing was acquired yet. */
	private void abortStart(String reason) {
		this.runtime.abort();
		this.keyspace.stop();
		this.handoff.unsubscribe();
		this.runtime.joinReader();
		this.runtime.shutdownScheduler();
		this.handoff.endSession();
		this.runtime.terminated(reason);
	}

	private void startComponents() {
		ScheduledExecutorService scheduler = this.runtime.scheduler();
		this.rebalancer = new Rebalancer(this.handoff, this.settings, this.store, this.session, scheduler);
		this.handoff.rebalancing(this.rebalancer);
		SessionRenewer renewer = new SessionRenewer(this.registration, this.settings, this.store, this.session, scheduler);
		this.sweeper = new LeaseSweeper(this.settings, this.store, this.runtime, scheduler, this.brokerInput, this.held,
				this.status, this.rebalancer, this.metrics, this::redisFailed, this::checkKeyspaceConfiguration,
				this::candidatesQueued);
		this.registration.started(renewer, this.sweeper, this.rebalancer);
		renewer.start();
		this.sweeper.start();
		this.claimWorker = new ClaimWorker(this.settings, this.brokerInput, this.keyspaceQueue, this.runtime, this.held,
				this.status, this.acquisitions, this.rebalancer, this::redisFailed);
		this.runtime.startClaims(this.claimWorker);
		this.status.renewed();
	}

	/**
	 * The events of this engine (the same object {@link #start()} returned).
	 */
	public StreamEvents events() {
		return this.events;
	}

	/**
	 * The consumer id of this engine.
	 */
	public String id() {
		return this.settings.consumerId();
	}

	/**
	 * Claims a stream whose lease lapsed (after an EXPIRED event, when auto-claim is off): the lease first (one
	 * consumer wins), then the LBS entry. Losing the race is a plain {@link ClaimResult.Status#ALREADY_CLAIMED}.
	 */
	public ClaimResult claim(String stream) {
		ensureRunning("claim stream '" + stream + "'");
		Lease held = this.held.get(stream);
		if (held != null) {
			return new ClaimResult(ClaimResult.Status.OWNED, stream, held, id());
		}
		if (this.held.room() <= 0) {
			return new ClaimResult(ClaimResult.Status.AT_CAPACITY, stream, null, null);
		}
		try {
			List<ClaimResult> results = this.acquisitions.claim(List.of(new LeaseStore.Request(stream, "")), false);
			if (results.isEmpty()) {
				throw new RedisCallException("Cannot claim stream '" + stream + "' now: the session of consumer '" + id()
						+ "' is not live (Redis unreachable, or the session is being registered again); try again", null);
			}
			return results.get(0);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new StreamLeaseException("Interrupted while claiming stream '" + stream + "'", ex);
		}
	}

	/**
	 * Finishes a held stream: releases its lease, acknowledges and deletes its LBS entry, in one fenced step.
	 * @throws LeaseLostException if this consumer does not hold the stream's lease
	 */
	public void doneStream(String stream) {
		Lease lease = this.held.get(stream);
		if (lease == null) {
			throw new LeaseLostException(stream, "Cannot finish stream '" + stream + "': consumer '" + id()
					+ "' does not hold its lease");
		}
		this.owner.finish(lease);
	}

	/**
	 * Hands one held stream off to peers without finishing it (its entry stays pending, its checkpoint stays): for
	 * a run that ended without finishing (for example its last checkpoint failed), so that a peer, or this
	 * consumer, resumes it from its checkpoint instead of the stream staying owned by a consumer that no longer
	 * processes it. Retried in the background while Redis does not answer (if the session lapses meanwhile, the
	 * stream is claimable anyway). Nothing happens when the stream is not held, or when finishing it is being
	 * retried.
	 */
	public void handOff(LeasedStream stream) {
		this.handoff.handOffOne(stream);
	}

	/**
	 * This consumer's fair share of the service's streams after the last renewal: the streams owned or released
	 * times this consumer's capacity over the sum of the capacities of the live consumers counted (those live for
	 * the settle time). NaN before the first renewal.
	 */
	public FairShare fairShare() {
		Rebalancer current = this.rebalancer;
		return (current != null) ? current.fairShare()
				: new FairShare(this.settings.rebalance().enabled(), Double.NaN, 0, 0, 0);
	}

	/**
	 * Finishes every held stream (the Done of redis-stream-client-go), then closes the engine.
	 */
	public void done() {
		for (Lease lease : this.held.snapshot()) {
			try {
				this.owner.finish(lease);
			}
			catch (LeaseLostException ex) {
				logger.debug("Stream '{}' was lost before it could be finished", lease.name());
			}
		}
		close();
	}

	/**
	 * Stops taking new streams (the LBS reader and the claims stop; within well under a second) while the held
	 * leases stay renewed, so that running handlers can finish in a grace period before {@link #close()} hands off
	 * the rest.
	 */
	public void stopReading() {
		this.runtime.stopReading();
	}

	/**
	 * Pauses the intake: the LBS reader and the claims stop taking new streams (within well under a second: this
	 * call waits, at most two seconds, until both are parked), while the session and every held stream stay renewed,
	 * so nothing lapses. Peers get the new work; claim candidates that arrive meanwhile are left to them. Held streams
	 * go on until the application finishes them or hands them off ({@link #handOffHeld()}). Nothing happens unless the
	 * engine is starting or running.
	 */
	public void pause() {
		if (!this.runtime.closeIntake()) {
			return;
		}
		this.held.wakeAll();
		candidatesQueued();
		this.runtime.awaitTakersParked(PAUSE_WAIT);
		logger.info("Stream Lease engine paused: service '{}', consumer '{}' takes no new streams; its {} held streams "
				+ "stay renewed", this.settings.serviceName(), id(), this.held.size());
	}

	/**
	 * Resumes the intake after {@link #pause()}: reads the LBS and claims again, and sweeps at once for what lapsed
	 * meanwhile.
	 */
	public void resume() {
		if (!this.runtime.openIntake()) {
			return;
		}
		candidatesQueued();
		notificationDropped();
		logger.info("Stream Lease engine resumed: service '{}', consumer '{}' takes new streams again",
				this.settings.serviceName(), id());
	}

	/**
	 * Whether the intake is paused ({@link #pause()}).
	 */
	public boolean isPaused() {
		return this.runtime.isPaused();
	}

	/**
	 * Hands off every held stream to peers without finishing it (entries stay pending, checkpoints stay), keeping
	 * this consumer's session: one call per thousand streams, and peers are told, so they claim at once. For a
	 * paused engine whose streams should move now; while the intake is open this consumer may take them again. Stop
	 * the handlers of these streams first. Streams whose finishing is being retried stay.
	 * @return how many streams were handed off
	 */
	public int handOffHeld() {
		return this.handoff.releaseHeld();
	}

	/**
	 * Stops the engine: stops reading the LBS (in well under a second), hands off every held stream so that peers
	 * claim it at once: its session ends in one call, and peers take its streams over (unless handoff on close is off:
	 * then the session, and with it every stream, lapses after hb-interval).
	 */
	@Override
	public void close() {
		if (!this.runtime.beginStop()) {
			return;
		}
		long started = System.nanoTime();
		this.held.wakeAll();
		int count = 0;
		if (this.settings.handoffOnClose()) {
			// first, without waiting for the reader's blocking read: peers can claim while this engine winds down
			count += this.handoff.endSession();
		}
		this.runtime.joinReader();
		this.runtime.stopClaims();
		this.keyspace.stop();
		this.handoff.unsubscribe();
		this.runtime.shutdownScheduler();
		if (this.settings.handoffOnClose()) {
			// then whatever the reader or the claim worker acquired meanwhile
			count += this.handoff.endSession();
		}
		else {
			for (Lease lease : this.held.snapshot()) {
				if (lease.end(Lease.State.HANDED_OFF)) {
					this.held.remove(lease);
					count++;
				}
			}
		}
		// without handoff the session is left to lapse (its streams become claimable after hb-interval); with handoff
		// it was ended already
		this.runtime.terminated("closed");
		this.events.add(StreamEvent.terminated("closed", null));
		logger.info("Stream Lease engine stopped: service '{}', consumer '{}', {} streams {} in {} ms",
				this.settings.serviceName(), id(), count, this.settings.handoffOnClose() ? "handed off" : "left to lapse",
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
	}

	/**
	 * The streams this consumer holds now.
	 */
	public Collection<LeasedStream> ownedStreams() {
		return List.copyOf(this.held.snapshot());
	}

	/**
	 * How many streams this consumer holds now (cheaper than {@link #ownedStreams()}).
	 */
	public int ownedCount() {
		return this.held.size();
	}

	/**
	 * The lifecycle state.
	 */
	public EngineState state() {
		return this.runtime.state();
	}

	/**
	 * Why the engine terminated, or null while it runs.
	 */
	public String terminationReason() {
		return this.runtime.terminationReason();
	}

	/**
	 * When the last renewal tick succeeded (start time until the first one).
	 */
	public Instant lastRenewal() {
		return this.status.lastRenewal();
	}

	/**
	 * Whether the last call to Redis succeeded.
	 */
	public boolean isRedisReachable() {
		return this.reachability.isReachable();
	}

	/**
	 * The last Redis failure, or null.
	 */
	public String lastRedisFailure() {
		return this.reachability.lastFailure();
	}

	/**
	 * How many LBS entries were pending in the group at the last sweep (held, being claimed, or orphaned).
	 */
	public long lbsPending() {
		return this.status.lbsPending();
	}

	/**
	 * What this engine has done since it started.
	 */
	public EngineCounters counters() {
		return this.status.counters();
	}

	/**
	 * Sets the one listener told when fair share asks this consumer to yield a held stream (the lease stays held
	 * meanwhile, and its {@link LeasedStream#released() released()} completes with
	 * {@link io.streamlease.ReleaseReason#REBALANCE}, after this listener returned). It runs off the engine's threads
	 * and must not block for long.
	 * A container uses this instead of a callback on each lease's {@code released()}, which would cost a future and
	 * a dependant per held stream.
	 */
	public void onYieldRequested(Consumer<LeasedStream> listener) {
		this.owner.onYieldRequested(listener);
	}

	/**
	 * Whether fair share asked this consumer to yield {@code lease} (a listener set after the request, or a run
	 * registered after it, checks this once).
	 */
	public boolean isYieldRequested(LeasedStream lease) {
		return (lease instanceof Lease held) && held.yielding();
	}

	/**
	 * The client that runs the engine's scripts: renewals, acquisitions, and the fenced checkpoint and finishing
	 * writes (a container compares its master with the data client's in Sentinel mode).
	 */
	public RedissonClient redisson() {
		return this.redisson;
	}

	/**
	 * The settings of this engine.
	 */
	public EngineSettings settings() {
		return this.settings;
	}

	/**
	 * The keys of this engine's service.
	 */
	public StreamLeaseKeys keys() {
		return this.store.keys();
	}

	/**
	 * Counts one more attempt of the handler on a held stream (fenced; the count survives a failover).
	 * @throws LeaseLostException if this consumer no longer holds the lease
	 */
	public int countAttempt(LeasedStream stream) {
		return this.owner.own(stream).countAttempt();
	}

	/**
	 * Moves a held stream's LBS entry to the dead-letter stream and finishes the stream, in one fenced step; for
	 * a handler that failed on every attempt.
	 * @throws LeaseLostException if this consumer no longer holds the lease
	 */
	public void deadLetter(LeasedStream stream, String detail) {
		this.deadLetters.handlerFailed(this.owner.own(stream), detail);
	}

	/**
	 * The metrics listener of this engine (handler layers report handler invocations to it).
	 */
	public EngineMetrics metrics() {
		return this.metrics;
	}

	/** The current session id, or null while none is open. */
	String sessionId() {
		return this.session.id();
	}

	/** A notification did not fit in its queue: sweep shortly, it finds the lapsed lease too. */
	void notificationDropped() {
		LeaseSweeper current = this.sweeper;
		if (current != null) {
			current.sweepSoon();
		}
	}

	/** Wakes the claim worker after claim candidates were queued. */
	void candidatesQueued() {
		ClaimWorker worker = this.claimWorker;
		if (worker != null) {
			worker.wake();
		}
	}

	/**
	 * Stops the engine for good after a fatal error: TERMINATED with the reason.
	 */
	void terminate(String reason, Throwable cause) {
		if (!this.runtime.beginTermination(reason)) {
			return;
		}
		logger.error("Stream Lease engine of service '{}', consumer '{}' terminated: {}", this.settings.serviceName(), id(),
				reason, cause);
		this.held.wakeAll();
		// the caller may be a thread of the scheduler or the claim worker: clean up on a thread of its own, so that
		// stopping those does not interrupt the handoff
		this.runtime.startThread("terminate", () -> {
			// hand off at once (best effort: Redis may be the reason), then again after the threads stopped
			this.handoff.endSession();
			this.runtime.interruptClaims();
			this.runtime.joinReader();
			this.runtime.stopClaims();
			this.keyspace.stop();
			this.handoff.unsubscribe();
			this.runtime.shutdownScheduler();
			this.handoff.endSession();
			this.runtime.terminated();
			this.events.add(StreamEvent.terminated(reason, cause));
		});
	}

	/**
	 * Stops every thread at once without another call to Redis, as if the process had died: nothing is handed
	 * off or deregistered, the leases lapse on the server. For tests of failover.
	 */
	void kill() {
		this.runtime.kill();
	}

	/**
	 * A call to Redis failed. A fatal configuration error (credentials refused, a command denied by an ACL)
	 * terminates the engine with the reason; any other fault is recorded (health DOWN, one WARN per outage) and the
	 * caller retries with back-off.
	 * @return whether the caller should go on (false when the engine terminates)
	 */
	boolean redisFailed(String what, Throwable failure) {
		RedisFault fault = RedisFault.of(failure);
		if (fault.fatal() && this.runtime.isRunning()) {
			terminate(fault.reason(what, failure), LeaseScript.unwrap(failure));
			return false;
		}
		recordFailure(what, failure);
		return this.runtime.isRunning();
	}

	private void recordFailure(String what, Throwable failure) {
		if (!this.runtime.isRunning()) {
			logger.debug("Redis call failed while {} as the engine stopped", what, failure);
			return;
		}
		this.reachability.failed(what, failure);
	}

	void redisRecovered() {
		this.reachability.succeeded();
	}

	private void redisAnswersAgain() {
		if (this.runtime.state() == EngineState.RUNNING) {
			this.keyspace.ensureConfigured(false);
		}
	}

	void checkKeyspaceConfiguration() {
		this.keyspace.ensureConfigured(false);
	}

	static <T> T await(CompletableFuture<T> future) throws InterruptedException {
		try {
			return future.get();
		}
		catch (ExecutionException ex) {
			Throwable cause = LeaseScript.unwrap(ex);
			if (cause instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new RedisCallException(cause.getMessage(), cause);
		}
	}

	private void ensureRunning(String action) {
		if (this.runtime.state() != EngineState.RUNNING) {
			throw new IllegalStateException("Cannot " + action + ": the engine of service '" + this.settings.serviceName()
					+ "' is " + this.runtime.state().name().toLowerCase());
		}
	}

}
