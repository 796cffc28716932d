package io.streamlease.engine;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

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

	private SessionRenewer renewer;

	private volatile LeaseSweeper sweeper;

	private volatile ClaimWorker claimWorker;

	private volatile Rebalancer rebalancer;

	private StreamLeaseEngine(RedissonClient redisson, EngineSettings settings, EngineMetrics metrics) {
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
				new LbsReader(this).run();
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
				register();
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
				sleepWhileRunning(delay);
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
		this.rebalancer = new Rebalancer(new RebalancerHost(), this.settings, this.store, this.session, scheduler);
		this.renewer = new SessionRenewer(new RenewerHost(), this.settings, this.store, this.session, scheduler);
		this.sweeper = new LeaseSweeper(this, scheduler, this.brokerInput);
		this.renewer.start();
		this.sweeper.start();
		this.claimWorker = new ClaimWorker(this, this.brokerInput, this.keyspaceQueue);
		this.runtime.startClaims(this.claimWorker);
		this.status.renewed();
	}

	private void register() {
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
			if (!sleepWhileRunning(Duration.ofMillis(Math.max(10, left + 10)))) {
				throw new StreamLeaseException("Start of service '" + this.settings.serviceName() + "' was interrupted");
			}
		}
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
		if (room() <= 0) {
			return new ClaimResult(ClaimResult.Status.AT_CAPACITY, stream, null, null);
		}
		try {
			List<ClaimResult> results = claimBatch(List.of(new LeaseStore.Request(stream, "")), false);
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
		Lease lease = this.held.get(stream.name());
		if (lease == null || lease != stream || lease.finishing || !lease.end(Lease.State.HANDED_OFF)) {
			return;
		}
		this.held.remove(lease);
		Rebalancer current = this.rebalancer;
		if (lease.yielding() && current != null) {
			// asked to yield for fair share: released in a batch, naming the peer meant to claim it
			current.handedOff(lease);
			return;
		}
		this.handoff.release(lease, 0);
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

	/** Whether this consumer holds fewer streams than its fair share (always true with rebalancing off). */
	boolean belowShare() {
		Rebalancer current = this.rebalancer;
		return current == null || current.belowShare();
	}

	/** Whether this consumer released streams for a rebalance within {@code window}. */
	boolean rebalancedWithin(Duration window) {
		Rebalancer current = this.rebalancer;
		return current != null && current.handedOffWithin(window);
	}

	/** Whether a counted peer held fewer streams than its share at the last renewal (always false when off). */
	boolean peersBelowShare() {
		Rebalancer current = this.rebalancer;
		return current != null && current.peersBelowShare();
	}

	/** How many more streams handed to this consumer by a rebalance it claims now (what it lacks to its share). */
	int shareRoom() {
		return shareRoom(null);
	}

	/** What this consumer lacks to its share once {@code departed} (null for none) no longer counts. */
	int shareRoom(String departed) {
		Rebalancer current = this.rebalancer;
		return (current != null) ? current.shareRoom(departed) : Integer.MAX_VALUE;
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

	// ---- package-private: the view of the engine that the reader, the sweeper and the claim worker use

	LeaseStore store() {
		return this.store;
	}

	boolean isRunning() {
		return this.runtime.isRunning();
	}

	/** The current session id, or null while none is open. */
	String sessionId() {
		return this.session.id();
	}

	/** Whether the session's local safety deadline has not passed. */
	boolean sessionSafe() {
		return this.session.isSafe();
	}

	/** Whether the reader and the claim worker should go on: running and not told to stop reading. */
	boolean isReading() {
		return this.runtime.isReading();
	}

	/** Whether the reader and the claim worker may take new streams now: reading and not paused. */
	boolean isTaking() {
		return this.runtime.isTaking();
	}

	/**
	 * For the reader and the claim worker between two turns: while paused, parks at most {@code timeout}.
	 * @return whether they may take new streams
	 */
	boolean passIntake(Duration timeout) throws InterruptedException {
		return this.runtime.passIntake(timeout);
	}

	void lbsPending(long pending) {
		this.status.lbsPending(pending);
	}

	boolean holds(String stream) {
		return this.held.holds(stream);
	}

	int room() {
		return this.held.room();
	}

	List<String> liveConsumers() {
		return this.status.liveConsumers();
	}

	void liveConsumers(List<String> live) {
		this.status.liveConsumers(live);
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

	void awaitRoom(Duration timeout) throws InterruptedException {
		this.held.awaitRoom(timeout, this.runtime::isRunning);
	}

	/** See {@link Acquisitions#announceExpired(String)}. */
	void expiredStreamsOf(String consumer) throws InterruptedException {
		this.acquisitions.announceExpired(consumer);
	}

	/** See {@link Acquisitions#announce(List)}. */
	void emitAdded(List<Lease> leases) throws InterruptedException {
		this.acquisitions.announce(leases);
	}

	/** See {@link Acquisitions#emit(StreamEvent)}. */
	void emit(StreamEvent event) throws InterruptedException {
		this.acquisitions.emit(event);
	}

	/** See {@link Acquisitions#accept}. */
	Lease accept(LeaseStore.Acquisition acquisition, Map<String, Object> info, List<Lease> toAnnounce) {
		return this.acquisitions.accept(acquisition, info, toAnnounce);
	}

	/** See {@link Acquisitions#claim(List, boolean)}. */
	List<ClaimResult> claimBatch(List<LeaseStore.Request> requests, boolean emit) throws InterruptedException {
		return this.acquisitions.claim(requests, emit);
	}

	/** See {@link Acquisitions#takeOver}, without a limit. */
	int takeOver(String consumer, Duration minIdle, boolean takeBackOwn) throws InterruptedException {
		return this.acquisitions.takeOver(consumer, minIdle, takeBackOwn, Integer.MAX_VALUE);
	}

	/** See {@link Acquisitions#takeOver}. */
	int takeOver(String consumer, Duration minIdle, boolean takeBackOwn, int limit) throws InterruptedException {
		return this.acquisitions.takeOver(consumer, minIdle, takeBackOwn, limit);
	}

	/** See {@link DeadLetters#malformed(LbsEntry)}. */
	void deadLetter(LbsEntry entry) {
		this.deadLetters.malformed(entry);
	}

	/** What the rebalancer needs of the engine. */
	private final class RebalancerHost implements Rebalancer.Host {

		@Override
		public boolean isReading() {
			// a paused consumer keeps what it holds: it runs no rounds (and publishes no capacity, see RenewerHost)
			return StreamLeaseEngine.this.isReading() && !isPaused();
		}

		@Override
		public Iterable<Lease> leases() {
			return StreamLeaseEngine.this.held.all();
		}

		@Override
		public int heldCount() {
			return StreamLeaseEngine.this.held.size();
		}

		@Override
		public void handOff(Lease lease) {
			StreamLeaseEngine.this.handOff(lease);
		}

		@Override
		public void movedOff(int count) {
			if (count > 0) {
				StreamLeaseEngine.this.status.rebalanced(count);
			}
		}

		@Override
		public boolean redisFailed(String what, Throwable failure) {
			return StreamLeaseEngine.this.redisFailed(what, failure);
		}

	}

	/** What the session renewer needs of the engine. */
	private final class RenewerHost implements SessionRenewer.Host {

		@Override
		public void renewed(LeaseStore.Renewal renewal) {
			renewed(renewal.live());
			Rebalancer current = StreamLeaseEngine.this.rebalancer;
			if (current != null) {
				current.renewed(renewal);
			}
		}

		@Override
		public long capacity() {
			// paused: peers count no share for it, so that no rebalance hands it streams it would not take
			return isPaused() ? 0 : StreamLeaseEngine.this.settings.maxConcurrentStreams();
		}

		@Override
		public boolean isRunning() {
			return StreamLeaseEngine.this.isRunning();
		}

		@Override
		public void renewed(Map<String, Long> live) {
			liveConsumers(new ArrayList<>(live.keySet()));
			StreamLeaseEngine.this.renewed();
			long earliest = Long.MAX_VALUE;
			for (Map.Entry<String, Long> peer : live.entrySet()) {
				if (!peer.getKey().equals(id())) {
					earliest = Math.min(earliest, peer.getValue());
				}
			}
			LeaseSweeper current = StreamLeaseEngine.this.sweeper;
			if (current != null && earliest != Long.MAX_VALUE) {
				current.watchDeadline(Duration.ofMillis(earliest));
			}
		}

		@Override
		public void sessionLost(String reason) {
			StreamLeaseEngine.this.sessionLost(reason);
		}

		@Override
		public boolean openSession() {
			return StreamLeaseEngine.this.reopenSession();
		}

		@Override
		public void sessionTaken() {
			terminate("consumer id '" + id() + "' was registered by another instance while this one could not renew its "
					+ "session (stalled or partitioned); this instance stops", null);
		}

		@Override
		public int heldCount() {
			return StreamLeaseEngine.this.held.size();
		}

		@Override
		public boolean redisFailed(String what, Throwable failure) {
			return StreamLeaseEngine.this.redisFailed(what, failure);
		}

		@Override
		public void renewalOverdue(long millis) {
			if (StreamLeaseEngine.this.reachability.isReachable()) {
				recordFailure("renewing the session", new RedisCallException("no renewal was confirmed for " + millis
						+ " ms", null));
			}
		}

		@Override
		public EngineMetrics metrics() {
			return StreamLeaseEngine.this.metrics;
		}

	}

	/**
	 * The session is gone, or may be: disowns every held stream at once, before any fenced write of theirs can be
	 * accepted, and abandons the session; the renewer registers a new one (ending this one on the server, so that
	 * its streams are claimable at once, by peers or by this consumer).
	 */
	private void sessionLost(String reason) {
		String abandoned = this.session.abandon();
		int count = this.owner.disownAll(reason);
		if (abandoned != null) {
			logger.warn("Consumer '{}' of service '{}' lost its session ({}): {} streams disowned; registering again",
					id(), this.settings.serviceName(), reason, count);
			SessionRenewer current = this.renewer;
			if (current != null && isRunning()) {
				this.runtime.execute(current::tick);
			}
		}
	}

	/**
	 * Opens a new session after the last one was lost; then takes back what it can of its own pending entries.
	 * @return whether a session is open now
	 */
	private boolean reopenSession() {
		long sent = System.nanoTime();
		LeaseStore.Registration registration = this.store.register();
		if (registration.taken()) {
			terminate("consumer id '" + id() + "' of service '" + this.settings.serviceName() + "' was registered by "
					+ "another instance while this one could not renew its session; this instance stops", null);
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
			candidatesQueued();
		}
		return true;
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
		if (fault.fatal() && isRunning()) {
			terminate(fault.reason(what, failure), LeaseScript.unwrap(failure));
			return false;
		}
		recordFailure(what, failure);
		return isRunning();
	}

	private void recordFailure(String what, Throwable failure) {
		if (!isRunning()) {
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

	void renewed() {
		this.status.renewed();
		redisRecovered();
	}

	/**
	 * Waits before retrying a failed call, waking early when the engine stops or when another component (the
	 * renewer retries every tenth of hb-interval) finds Redis reachable again, so that a long back-off does not
	 * delay the recovery.
	 * @return false if interrupted
	 */
	boolean backOff(Duration duration) {
		return this.runtime.backOff(duration, this.reachability::isReachable);
	}

	/**
	 * Sleeps, waking early when the engine stops.
	 * @return false if interrupted
	 */
	boolean sleepWhileRunning(Duration duration) {
		return this.runtime.sleepWhileRunning(duration);
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
