package io.streamlease.engine;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import io.streamlease.DuplicateConsumerException;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import io.streamlease.StreamLeaseException;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

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

	/** Streams per call of {@link #handOffHeld()}. */
	private static final int HANDOFF_CHUNK = 1000;



	private final RedissonClient redisson;

	private final EngineSettings settings;

	private final EngineMetrics metrics;

	private final LeaseStore store;

	private final Session session;


	private final EventChannel events;

	private final HeldStreams held;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	private final BlockingQueue<String> keyspaceQueue;

	private final KeyspaceListener keyspace;

	private final Object lifecycle = new Object();

	private final IntakeGate intake = new IntakeGate();


	private final LongAdder added = new LongAdder();

	private final LongAdder claimed = new LongAdder();

	private final LongAdder completed = new LongAdder();

	private final LongAdder disownedCount = new LongAdder();

	private final LongAdder handedOff = new LongAdder();

	private final LongAdder deadLettered = new LongAdder();

	private final LongAdder duplicates = new LongAdder();

	private volatile EngineState state = EngineState.NEW;

	private volatile boolean running;

	private volatile boolean reading = true;

	private volatile long lbsPending;

	private volatile String terminationReason;

	private volatile List<String> liveConsumers = List.of();

	private volatile Instant lastRenewal;

	private volatile Consumer<LeasedStream> yieldListener = (lease) -> {
	};

	private final RedisReachability reachability;



	private ScheduledExecutorService scheduler;

	private SessionRenewer renewer;

	private volatile LeaseSweeper sweeper;

	private Thread readerThread;

	private Thread claimThread;

	private volatile ClaimWorker claimWorker;

	private volatile Rebalancer rebalancer;

	private RTopic handoffTopic;

	private int handoffListenerId;

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
		synchronized (this.lifecycle) {
			if (this.state != EngineState.NEW) {
				throw new IllegalStateException("Engine of service '" + this.settings.serviceName() + "' was already started ("
						+ this.state + ")");
			}
			this.state = EngineState.STARTING;
			this.running = true;
		}
		String prefix = "stream-lease-" + this.settings.serviceName() + "-";
		this.scheduler = Executors.newScheduledThreadPool(2, threads(prefix + "scheduler"));
		CompletableFuture<Void> established = new CompletableFuture<>();
		this.readerThread = threads(prefix + "reader").newThread(() -> {
			if (establish(established)) {
				new LbsReader(this).run();
			}
		});
		this.readerThread.start();
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
		while (this.running) {
			try {
				this.store.createGroup();
				register();
				this.keyspace.start();
				subscribeToHandoffs();
				synchronized (this.lifecycle) {
					if (!this.running) {
						break;
					}
					startComponents();
					this.state = EngineState.RUNNING;
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
				if (!this.running) {
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
		synchronized (this.lifecycle) {
			this.running = false;
			this.state = EngineState.STOPPING;
		}
		this.keyspace.stop();
		removeHandoffListener();
		join(this.readerThread);
		shutdownThreads();
		handoffAll();
		this.terminationReason = reason;
		this.state = EngineState.TERMINATED;
	}

	private void subscribeToHandoffs() {
		if (this.handoffTopic != null) {
			return;
		}
		RTopic topic = this.redisson.getTopic(this.store.keys().handoffChannel(), StringCodec.INSTANCE);
		this.handoffListenerId = topic.addListener(String.class, (channel, message) -> handoffReceived(message));
		this.handoffTopic = topic;
	}

	private void startComponents() {
		this.rebalancer = new Rebalancer(new RebalancerHost(), this.settings, this.store, this.session, this.scheduler);
		this.renewer = new SessionRenewer(new RenewerHost(), this.settings, this.store, this.session, this.scheduler);
		this.sweeper = new LeaseSweeper(this, this.scheduler, this.brokerInput);
		this.renewer.start();
		this.sweeper.start();
		this.claimWorker = new ClaimWorker(this, this.brokerInput, this.keyspaceQueue);
		String prefix = "stream-lease-" + this.settings.serviceName() + "-";
		this.claimThread = threads(prefix + "claims").newThread(this.claimWorker);
		this.claimThread.start();
		this.lastRenewal = Instant.now();
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
		finish(lease);
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
		releaseOnServer(lease, 0);
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

	private void releaseOnServer(Lease lease, int attempt) {
		String sessionId = this.session.id();
		if (sessionId == null || !sessionId.equals(lease.record().sessionId())) {
			return;
		}
		try {
			if (this.store.handoffStreams(sessionId, List.of(lease.name()), List.of(lease.record())) > 0) {
				this.handedOff.increment();
				this.metrics.handedOff(1);
			}
		}
		catch (RuntimeException ex) {
			if (this.running && redisFailed("handing off stream '" + lease.name() + "'", ex) && this.scheduler != null
					&& !this.scheduler.isShutdown()) {
				this.scheduler.schedule(() -> releaseOnServer(lease, attempt + 1),
						Math.max(1, backgroundRetryDelay(attempt + 1).toMillis()), TimeUnit.MILLISECONDS);
			}
		}
	}

	/**
	 * Finishes every held stream (the Done of redis-stream-client-go), then closes the engine.
	 */
	public void done() {
		for (Lease lease : this.held.snapshot()) {
			try {
				finish(lease);
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
		if (this.state != EngineState.RUNNING) {
			return;
		}
		this.reading = false;
		this.held.wakeAll();
		join(this.readerThread);
		if (this.claimThread != null) {
			this.claimThread.interrupt();
			join(this.claimThread);
		}
	}

	/**
	 * Pauses the intake: the LBS reader and the claims stop taking new streams (within well under a second: this
	 * call waits, at most two seconds, until both are parked), while the session and every held stream stay renewed,
	 * so nothing lapses. Peers get the new work; claim candidates that arrive meanwhile are left to them. Held streams
	 * go on until the application finishes them or hands them off ({@link #handOffHeld()}). Nothing happens unless the
	 * engine is starting or running.
	 */
	public void pause() {
		if ((this.state != EngineState.RUNNING && this.state != EngineState.STARTING) || !this.intake.close()) {
			return;
		}
		this.held.wakeAll();
		candidatesQueued();
		int takers = (alive(this.readerThread) && this.state == EngineState.RUNNING ? 1 : 0) + (alive(this.claimThread) ? 1 : 0);
		try {
			this.intake.awaitParked(takers, PAUSE_WAIT);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		logger.info("Stream Lease engine paused: service '{}', consumer '{}' takes no new streams; its {} held streams "
				+ "stay renewed", this.settings.serviceName(), id(), this.held.size());
	}

	/**
	 * Resumes the intake after {@link #pause()}: reads the LBS and claims again, and sweeps at once for what lapsed
	 * meanwhile.
	 */
	public void resume() {
		if (!this.intake.open()) {
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
		return !this.intake.isOpen();
	}

	/**
	 * Hands off every held stream to peers without finishing it (entries stay pending, checkpoints stay), keeping
	 * this consumer's session: one call per thousand streams, and peers are told, so they claim at once. For a
	 * paused engine whose streams should move now; while the intake is open this consumer may take them again. Stop
	 * the handlers of these streams first. Streams whose finishing is being retried stay.
	 * @return how many streams were handed off
	 */
	public int handOffHeld() {
		List<Lease> leases = new ArrayList<>();
		for (Lease lease : this.held.snapshot()) {
			if (!lease.finishing && lease.end(Lease.State.HANDED_OFF)) {
				this.held.remove(lease);
				leases.add(lease);
			}
		}
		for (int from = 0; from < leases.size(); from += HANDOFF_CHUNK) {
			List<Lease> chunk = leases.subList(from, Math.min(leases.size(), from + HANDOFF_CHUNK));
			String sessionId = this.session.id();
			List<String> names = new ArrayList<>(chunk.size());
			List<OwnershipRecord> records = new ArrayList<>(chunk.size());
			for (Lease lease : chunk) {
				if (sessionId != null && sessionId.equals(lease.record().sessionId())) {
					names.add(lease.name());
					records.add(lease.record());
				}
			}
			if (names.isEmpty()) {
				continue;
			}
			try {
				int released = this.store.handoffStreams(sessionId, names, records);
				this.handedOff.add(released);
				this.metrics.handedOff(released);
			}
			catch (RuntimeException ex) {
				// one by one, retried in the background while Redis does not answer
				redisFailed("handing off " + names.size() + " streams", ex);
				chunk.forEach((lease) -> releaseOnServer(lease, 1));
			}
		}
		if (!leases.isEmpty()) {
			logger.info("Consumer '{}' of service '{}' handed off {} streams", id(), this.settings.serviceName(),
					leases.size());
		}
		return leases.size();
	}

	/**
	 * Stops the engine: stops reading the LBS (in well under a second), hands off every held stream so that peers
	 * claim it at once: its session ends in one call, and peers take its streams over (unless handoff on close is off:
	 * then the session, and with it every stream, lapses after hb-interval).
	 */
	@Override
	public void close() {
		synchronized (this.lifecycle) {
			if (this.state != EngineState.RUNNING && this.state != EngineState.STARTING) {
				return;
			}
			this.state = EngineState.STOPPING;
			this.running = false;
		}
		long started = System.nanoTime();
		this.held.wakeAll();
		int count = 0;
		if (this.settings.handoffOnClose()) {
			// first, without waiting for the reader's blocking read: peers can claim while this engine winds down
			count += handoffAll();
		}
		join(this.readerThread);
		if (this.claimThread != null) {
			this.claimThread.interrupt();
			join(this.claimThread);
		}
		this.keyspace.stop();
		removeHandoffListener();
		shutdownThreads();
		if (this.settings.handoffOnClose()) {
			// then whatever the reader or the claim worker acquired meanwhile
			count += handoffAll();
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
		this.terminationReason = "closed";
		this.state = EngineState.TERMINATED;
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
		return this.state;
	}

	/**
	 * Why the engine terminated, or null while it runs.
	 */
	public String terminationReason() {
		return this.terminationReason;
	}

	/**
	 * When the last renewal tick succeeded (start time until the first one).
	 */
	public Instant lastRenewal() {
		return this.lastRenewal;
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
		return this.lbsPending;
	}

	/**
	 * What this engine has done since it started.
	 */
	public EngineCounters counters() {
		return new EngineCounters(this.added.sum(), this.claimed.sum(), this.completed.sum(), this.disownedCount.sum(),
				this.handedOff.sum(), this.deadLettered.sum(), this.duplicates.sum());
	}

	/**
	 * Sets the one listener told when fair share asks this consumer to yield a held stream (the lease stays held
	 * meanwhile, and its {@link LeasedStream#released() released()} completes with
	 * {@link io.streamlease.ReleaseReason#REBALANCE}). It runs off the engine's threads and must not block for long.
	 * A container uses this instead of a callback on each lease's {@code released()}, which would cost a future and
	 * a dependant per held stream.
	 */
	public void onYieldRequested(Consumer<LeasedStream> listener) {
		this.yieldListener = (listener != null) ? listener : (lease) -> {
		};
	}

	/**
	 * Whether fair share asked this consumer to yield {@code lease} (a listener set after the request, or a run
	 * registered after it, checks this once).
	 */
	public boolean isYieldRequested(LeasedStream lease) {
		return (lease instanceof Lease held) && held.yielding();
	}

	void yieldRequested(Lease lease) {
		try {
			this.yieldListener.accept(lease);
		}
		catch (RuntimeException ex) {
			logger.warn("The yield listener failed on stream '{}'", lease.name(), ex);
		}
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
		return ownLease(stream).countAttempt();
	}

	/**
	 * Moves a held stream's LBS entry to the dead-letter stream and finishes the stream, in one fenced step; for
	 * a handler that failed on every attempt.
	 * @throws LeaseLostException if this consumer no longer holds the lease
	 */
	public void deadLetter(LeasedStream stream, String detail) {
		Lease lease = ownLease(stream);
		lease.ensureOwned("dead-letter");
		Map<String, String> fields = deadLetterFields(DeadLetterReason.HANDLER_FAILED, detail, lease.lbsEntryId());
		fields.put("dead-letter.stream", lease.name());
		fields.put("dead-letter.attempts", Integer.toString(lease.checkpoint().attempts()));
		fields.put(LbsEntry.FIELD, LbsEntry.payload(lease.name(), lease.info()));
		LeaseStore.Fenced reply = this.store.deadLetter(lease.lbsEntryId(), lease.name(), lease.record(), fields,
				this.settings.deadLetterMaxLength());
		if (!reply.owned()) {
			disown(lease, "dead-lettering found the stream " + describeHolder(reply.value()));
			throw lease.lost("dead-letter", reply.value());
		}
		if (lease.end(Lease.State.DONE)) {
			this.held.remove(lease);
		}
		this.deadLettered.increment();
		this.metrics.deadLettered(DeadLetterReason.HANDLER_FAILED);
		this.metrics.leaseReleased(lease.name(), "dead-letter");
		logger.warn("Moved stream '{}' of service '{}' to the dead-letter stream '{}': {}", lease.name(),
				this.settings.serviceName(), this.store.keys().deadLetters(), detail);
	}

	private Lease ownLease(LeasedStream stream) {
		Lease lease = this.held.get(stream.name());
		if (lease == null || lease != stream) {
			throw new LeaseLostException(stream.name(), "Consumer '" + id() + "' does not hold the lease of stream '"
					+ stream.name() + "' (fencing token " + stream.fencingToken() + ")");
		}
		return lease;
	}

	// ---- package-private: the components' view of the engine

	LeaseStore store() {
		return this.store;
	}

	/**
	 * The metrics listener of this engine (handler layers report handler invocations to it).
	 */
	public EngineMetrics metrics() {
		return this.metrics;
	}

	boolean isRunning() {
		return this.running;
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
		return this.running && this.reading;
	}

	/** Whether the reader and the claim worker may take new streams now: reading and not paused. */
	boolean isTaking() {
		return isReading() && this.intake.isOpen();
	}

	/**
	 * For the reader and the claim worker between two turns: while paused, parks at most {@code timeout}.
	 * @return whether they may take new streams
	 */
	boolean passIntake(Duration timeout) throws InterruptedException {
		return this.intake.passOrPark(timeout);
	}

	void lbsPending(long pending) {
		this.lbsPending = pending;
	}

	Collection<Lease> leases() {
		return this.held.all();
	}

	boolean holds(String stream) {
		return this.held.holds(stream);
	}

	int room() {
		return this.held.room();
	}

	List<String> liveConsumers() {
		return this.liveConsumers;
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

	void liveConsumers(List<String> live) {
		this.liveConsumers = List.copyOf(live);
	}

	void awaitRoom(Duration timeout) throws InterruptedException {
		this.held.awaitRoom(timeout, () -> this.running);
	}

	/**
	 * Auto-claim off: delivers EXPIRED for the streams pending for a consumer whose session lapsed or ended, so that
	 * the application claims them with {@link #claim(String)}.
	 */
	void expiredStreamsOf(String consumer) throws InterruptedException {
		for (LeaseStore.Pending pending : this.store.pendingOf(consumer, this.settings.lbsRecoveryCount())) {
			if (pending.fields().isEmpty()) {
				continue;
			}
			LbsEntry entry = LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize());
			if (entry.valid() && !holds(entry.stream())) {
				emit(StreamEvent.expired(entry.stream()));
			}
		}
	}

	/**
	 * Hands ADDED events to the application for streams already registered as held (in order), waiting for room.
	 */
	void emitAdded(List<Lease> leases) throws InterruptedException {
		for (Lease lease : leases) {
			emit(StreamEvent.added(lease));
		}
	}

	/**
	 * Puts an ADDED or EXPIRED event, waiting for room while the engine runs.
	 */
	void emit(StreamEvent event) throws InterruptedException {
		this.events.put(event, this::isReading);
	}

	/**
	 * Registers the outcome of an acquisition: a new lease (ADDED event when {@code emit}), or a counted duplicate.
	 * @return the lease when this consumer holds the stream now, else null
	 */
	Lease accept(LeaseStore.Acquisition acquisition, Map<String, Object> info, List<Lease> toAnnounce)
			throws InterruptedException {
		switch (acquisition.status()) {
			case ACQUIRED, OWNED -> {
				Lease existing = this.held.get(acquisition.stream());
				if (existing != null && existing.fencingToken() == acquisition.token()) {
					return existing;
				}
				if (existing != null) {
					// taken again under a new token while an older lease object was still held here: end the older run
					disown(existing, "the stream was acquired again with fencing token " + acquisition.token());
				}
				Lease lease = new Lease(this, acquisition.stream(), acquisition.lbsId(), info, acquisition.token(),
						acquisition.recovered(), acquisition.checkpoint(), this.session);
				this.held.put(lease);
				if (acquisition.recovered()) {
					this.claimed.increment();
				}
				else {
					this.added.increment();
				}
				this.metrics.leaseAcquired(lease.name(), lease.recovered());
				this.metrics.streamProcessingStarted(lease.name());
				logger.debug("Acquired stream '{}' (fencing token {}, recovered {})", lease.name(), lease.fencingToken(),
						lease.recovered());
				if (toAnnounce != null) {
					toAnnounce.add(lease);
				}
				return lease;
			}
			case DUPLICATE -> {
				this.duplicates.increment();
				this.metrics.duplicateSubmission(acquisition.stream());
				logger.debug("Stream '{}' was submitted again (entry {}) while held by '{}': one more run follows this one",
						acquisition.stream(), acquisition.lbsId(), acquisition.holder());
				return null;
			}
			default -> {
				return null;
			}
		}
	}

	/**
	 * Claims lapsed streams (one script call); ADDED events for the won ones when {@code emit}.
	 */
	List<ClaimResult> claimBatch(List<LeaseStore.Request> requests, boolean emit) throws InterruptedException {
		String sessionId = this.session.id();
		if (sessionId == null || !this.session.isSafe()) {
			return List.of();
		}
		long sent = System.nanoTime();
		LeaseStore.Acquisitions reply = await(this.store.acquire(sessionId, requests, true));
		Duration took = Duration.ofNanos(System.nanoTime() - sent);
		List<ClaimResult> results = new ArrayList<>(reply.acquisitions().size());
		List<Lease> added = new ArrayList<>();
		for (LeaseStore.Acquisition acquisition : reply.acquisitions()) {
			Map<String, Object> info = Map.of();
			if (!acquisition.fields().isEmpty()) {
				LbsEntry entry = LbsEntry.parse(acquisition.lbsId(), acquisition.fields(), Integer.MAX_VALUE);
				info = entry.info();
			}
			Lease lease = accept(acquisition, info, emit ? added : null);
			ClaimResult.Status status = switch (acquisition.status()) {
				case ACQUIRED -> ClaimResult.Status.CLAIMED;
				case OWNED -> ClaimResult.Status.OWNED;
				case HELD, DUPLICATE -> ClaimResult.Status.ALREADY_CLAIMED;
				case GONE -> ClaimResult.Status.GONE;
			};
			this.metrics.claimAttempt(acquisition.stream(), status, took);
			results.add(new ClaimResult(status, acquisition.stream(), lease,
					(status == ClaimResult.Status.ALREADY_CLAIMED) ? acquisition.holder() : null));
		}
		emitAdded(added);
		return results;
	}

	/**
	 * Takes over the pending entries of {@code consumer} ("" for every consumer) idle at least {@code minIdle}
	 * whose streams no live session owns, in chunks of up to claim-chunk-size, as far as there is room; malformed
	 * entries are dead-lettered. With {@code takeBackOwn}, streams the server says this session owns but that this
	 * engine does not hold (a reply lost on the way) are claimed again under a new token.
	 * @return how many streams were taken
	 */
	int takeOver(String consumer, Duration minIdle, boolean takeBackOwn) throws InterruptedException {
		return takeOver(consumer, minIdle, takeBackOwn, Integer.MAX_VALUE);
	}

	/** {@link #takeOver(String, Duration, boolean)} taking at most {@code limit} streams (fair share). */
	int takeOver(String consumer, Duration minIdle, boolean takeBackOwn, int limit) throws InterruptedException {
		int taken = 0;
		String after = "-";
		while (isTaking()) {
			String sessionId = this.session.id();
			int room = Math.min(room(), limit - taken);
			if (sessionId == null || !this.session.isSafe() || room <= 0) {
				break;
			}
			long sent = System.nanoTime();
			LeaseStore.Takeover takeover = this.store.claimPending(sessionId, consumer, minIdle, after, this.settings.lbsRecoveryCount(),
					Math.min(room, this.settings.lbsRecoveryCount()), takeBackOwn);
			if (takeover.notLive()) {
				break;
			}
			Duration took = Duration.ofNanos(System.nanoTime() - sent);
			for (LeaseStore.Pending pending : takeover.malformed()) {
				deadLetter(LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize()));
			}
			List<Lease> added = new ArrayList<>(takeover.taken().size());
			for (LeaseStore.Acquisition acquisition : takeover.taken()) {
				LbsEntry entry = LbsEntry.parse(acquisition.lbsId(), acquisition.fields(), Integer.MAX_VALUE);
				accept(acquisition, entry.info(), added);
				this.metrics.claimAttempt(acquisition.stream(), ClaimResult.Status.CLAIMED, took);
				taken++;
			}
			emitAdded(added);
			if (takeBackOwn) {
				List<LeaseStore.Request> lost = new ArrayList<>();
				for (LeaseStore.Request own : takeover.own()) {
					if (!holds(own.stream())) {
						lost.add(own);
					}
				}
				if (!lost.isEmpty()) {
					taken += (int) claimBatch(lost, true).stream()
						.filter((result) -> result.status() == ClaimResult.Status.CLAIMED)
						.count();
				}
			}
			if (takeover.examined() == 0 || takeover.last().equals(after)) {
				break;
			}
			after = takeover.last();
		}
		return taken;
	}

	/**
	 * Moves a malformed LBS entry to the dead-letter stream with the reason and its original fields.
	 */
	void deadLetter(LbsEntry entry) {
		Map<String, String> fields = deadLetterFields(entry.rejection(), entry.detail(), entry.id());
		entry.fields().forEach(fields::putIfAbsent);
		this.store.deadLetter(entry.id(), "", null, fields, this.settings.deadLetterMaxLength());
		this.deadLettered.increment();
		this.metrics.deadLettered(entry.rejection());
		logger.warn("Moved LBS entry {} of service '{}' to the dead-letter stream '{}': {}", entry.id(),
				this.settings.serviceName(), this.store.keys().deadLetters(), entry.detail());
	}

	private Map<String, String> deadLetterFields(DeadLetterReason reason, String detail, String lbsId) {
		Map<String, String> fields = new LinkedHashMap<>();
		fields.put("dead-letter.reason", reason.tag());
		fields.put("dead-letter.detail", detail);
		fields.put("dead-letter.lbs-id", lbsId);
		fields.put("dead-letter.consumer", id());
		fields.put("dead-letter.at", Instant.now().toString());
		return fields;
	}

	/**
	 * Finishes a stream (fenced).
	 */
	void finish(Lease lease) {
		lease.ensureOwned("finish");
		LeaseStore.Finish reply;
		try {
			reply = this.store.finish(lease.name(), lease.record(), this.settings.checkpointRetention());
		}
		catch (RuntimeException ex) {
			if (RedisFault.of(ex).fatal() || !this.running) {
				throw ex;
			}
			// the stream stays held (its session keeps it): finishing is retried until it succeeds or the stream is
			// lost, so that it can never stay owned, unfinished, by a consumer that moved on
			lease.finishing = true;
			retryFinish(lease, 1);
			throw new RedisCallException("Could not finish stream '" + lease.name() + "' now (" + ex.getMessage()
					+ "); consumer '" + id() + "' keeps it and finishes it as soon as Redis answers", ex);
		}
		completeFinish(lease, reply);
	}

	private void retryFinish(Lease lease, int attempt) {
		if (this.scheduler == null || this.scheduler.isShutdown()) {
			return;
		}
		Duration delay = backgroundRetryDelay(attempt);
		this.scheduler.schedule(() -> {
			if (lease.state() != Lease.State.HELD || !this.running) {
				return;
			}
			try {
				completeFinish(lease, this.store.finish(lease.name(), lease.record(), this.settings.checkpointRetention()));
				logger.info("Finished stream '{}' of service '{}' after {} retries", lease.name(),
						this.settings.serviceName(), attempt);
			}
			catch (LeaseLostException ex) {
				logger.debug("Stream '{}' was lost before it could be finished", lease.name());
			}
			catch (RuntimeException ex) {
				if (redisFailed("finishing stream '" + lease.name() + "' (retry " + attempt + ")", ex)) {
					retryFinish(lease, attempt + 1);
				}
			}
		}, Math.max(1, delay.toMillis()), TimeUnit.MILLISECONDS);
	}

	/** The back-off of a call retried in the background for a held stream: the retry settings, at most hb / 2. */
	private Duration backgroundRetryDelay(int attempt) {
		Duration delay = this.settings.retry().delay(attempt);
		Duration cap = this.settings.hbInterval().dividedBy(2);
		return (delay.compareTo(cap) > 0) ? cap : delay;
	}

	private void completeFinish(Lease lease, LeaseStore.Finish reply) {
		if (reply.status() == LeaseStore.FinishStatus.NOT_OWNER) {
			disown(lease, "finishing found the stream " + describeHolder(reply.detail()));
			throw lease.lost("finish", reply.detail());
		}
		// DONE, RESUBMITTED, or FINISHED (this call was repeated after a lost reply: the first one finished it)
		if (lease.end(Lease.State.DONE)) {
			this.held.remove(lease);
		}
		this.completed.increment();
		this.metrics.leaseReleased(lease.name(), "done");
		this.metrics.streamProcessingEnded(lease.name(), Duration.ofNanos(System.nanoTime() - lease.acquiredNanos()));
		if (reply.status() == LeaseStore.FinishStatus.RESUBMITTED) {
			logger.debug("Stream '{}' finished; it was submitted again meanwhile, so it is announced again as {}",
					lease.name(), reply.detail());
		}
	}

	/** Describes the ownership record a refused fenced write found, naming its holder when it can. */
	String describeHolder(String record) {
		OwnershipRecord parsed = OwnershipRecord.parse(record);
		String consumer = null;
		if (parsed != null) {
			try {
				consumer = this.store.consumerOf(parsed.sessionId());
			}
			catch (RuntimeException ex) {
				logger.debug("Could not look up the holder of session {}", parsed.sessionId(), ex);
			}
		}
		return OwnershipRecord.describe(record, consumer);
	}

	/**
	 * Marks a lease lost and tells the application (DISOWNED).
	 */
	boolean disown(Lease lease, String reason) {
		if (!lease.end(Lease.State.DISOWNED)) {
			return false;
		}
		this.held.remove(lease);
		this.disownedCount.increment();
		this.metrics.disowned(lease.name(), reason);
		this.events.add(StreamEvent.disowned(lease, reason));
		logger.warn("Consumer '{}' lost stream '{}' (fencing token {}): {}", id(), lease.name(), lease.fencingToken(), reason);
		return true;
	}

	/**
	 * Hands off every held stream at once by ending this consumer's session (one call, whatever the number of
	 * streams): peers are told and take the session's streams over in chunks. Returns how many leases it ended.
	 */
	private int handoffAll() {
		List<Lease> held = new ArrayList<>();
		for (Lease lease : this.held.all()) {
			if (lease.state() == Lease.State.HELD) {
				held.add(lease);
			}
		}
		String sessionId = this.session.id();
		if (sessionId != null) {
			try {
				this.store.handoffSession(sessionId);
				this.session.abandon();
			}
			catch (RuntimeException ex) {
				logger.warn("Could not hand off the streams of consumer '{}' ({}): peers will claim them when its session "
						+ "lapses", id(), ex.getMessage());
			}
		}
		int ended = 0;
		for (Lease lease : held) {
			if (lease.end(Lease.State.HANDED_OFF)) {
				this.held.remove(lease);
				ended++;
			}
		}
		if (ended > 0 && this.session.id() == null) {
			this.handedOff.add(ended);
			this.metrics.handedOff(ended);
		}
		return ended;
	}

	private void handoffReceived(String message) {
		try {
			JsonNode root = LbsEntry.JSON.readTree(message);
			String departing = root.path("consumer").asString(null);
			if (id().equals(departing)) {
				return;
			}
			List<ClaimCandidate> batch = new ArrayList<>();
			if (root.has("session")) {
				batch.add(ClaimCandidate.ofConsumer(departing, "handoff"));
			}
			String target = root.path("target").asString(null);
			for (JsonNode stream : root.path("streams")) {
				batch.add(new ClaimCandidate(stream.path(0).asString(), stream.path(1).asString(""),
						(target != null) ? "rebalance" : "handoff", departing, target));
			}
			if (batch.isEmpty()) {
				return;
			}
			if (this.brokerInput.offer(batch)) {
				candidatesQueued();
			}
			else {
				notificationDropped();
			}
		}
		catch (RuntimeException ex) {
			logger.debug("Ignored a malformed handoff message", ex);
		}
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
				StreamLeaseEngine.this.handedOff.add(count);
				StreamLeaseEngine.this.metrics.handedOff(count);
				StreamLeaseEngine.this.metrics.rebalanced(count);
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
			return StreamLeaseEngine.this.running;
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
		int count = 0;
		for (Lease lease : this.held.snapshot()) {
			if (disown(lease, reason)) {
				count++;
			}
		}
		if (abandoned != null) {
			logger.warn("Consumer '{}' of service '{}' lost its session ({}): {} streams disowned; registering again",
					id(), this.settings.serviceName(), reason, count);
			SessionRenewer current = this.renewer;
			if (current != null && this.running) {
				this.scheduler.execute(current::tick);
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
				this.scheduler.execute(current::tick);
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
		synchronized (this.lifecycle) {
			if (this.state == EngineState.TERMINATED || this.state == EngineState.STOPPING) {
				return;
			}
			this.state = EngineState.STOPPING;
			this.running = false;
		}
		logger.error("Stream Lease engine of service '{}', consumer '{}' terminated: {}", this.settings.serviceName(), id(),
				reason, cause);
		this.terminationReason = reason;
		this.held.wakeAll();
		// the caller may be a thread of the scheduler or the claim worker: clean up on a thread of its own, so that
		// stopping those does not interrupt the handoff
		Thread cleanup = new Thread(() -> {
			// hand off at once (best effort: Redis may be the reason), then again after the threads stopped
			handoffAll();
			if (this.claimThread != null) {
				this.claimThread.interrupt();
			}
			join(this.readerThread);
			join(this.claimThread);
			this.keyspace.stop();
			removeHandoffListener();
			shutdownThreads();
			handoffAll();
			this.state = EngineState.TERMINATED;
			this.events.add(StreamEvent.terminated(reason, cause));
		}, "stream-lease-" + this.settings.serviceName() + "-terminate");
		cleanup.setDaemon(true);
		cleanup.start();
	}

	/**
	 * Stops every thread at once without another call to Redis, as if the process had died: nothing is handed
	 * off or deregistered, the leases lapse on the server. For tests of failover.
	 */
	void kill() {
		synchronized (this.lifecycle) {
			this.running = false;
			this.state = EngineState.TERMINATED;
			this.terminationReason = "killed";
		}
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
		}
		for (Thread thread : new Thread[] { this.readerThread, this.claimThread }) {
			if (thread != null) {
				thread.interrupt();
			}
		}
		this.held.wakeAll();
	}

	/**
	 * A call to Redis failed. A fatal configuration error (credentials refused, a command denied by an ACL)
	 * terminates the engine with the reason; any other fault is recorded (health DOWN, one WARN per outage) and the
	 * caller retries with back-off.
	 * @return whether the caller should go on (false when the engine terminates)
	 */
	boolean redisFailed(String what, Throwable failure) {
		RedisFault fault = RedisFault.of(failure);
		if (fault.fatal() && this.running) {
			terminate(fault.reason(what, failure), LeaseScript.unwrap(failure));
			return false;
		}
		recordFailure(what, failure);
		return this.running;
	}

	private void recordFailure(String what, Throwable failure) {
		if (!this.running) {
			logger.debug("Redis call failed while {} as the engine stopped", what, failure);
			return;
		}
		this.reachability.failed(what, failure);
	}

	void redisRecovered() {
		this.reachability.succeeded();
	}

	private void redisAnswersAgain() {
		if (this.state == EngineState.RUNNING) {
			this.keyspace.ensureConfigured(false);
		}
	}

	void checkKeyspaceConfiguration() {
		this.keyspace.ensureConfigured(false);
	}

	void renewed() {
		this.lastRenewal = Instant.now();
		redisRecovered();
	}

	/**
	 * Waits before retrying a failed call, waking early when the engine stops or when another component (the
	 * renewer retries every tenth of hb-interval) finds Redis reachable again, so that a long back-off does not
	 * delay the recovery.
	 * @return false if interrupted
	 */
	boolean backOff(Duration duration) {
		return sleep(duration, () -> this.running, this.reachability::isReachable);
	}

	/**
	 * Sleeps, waking early when the engine stops.
	 * @return false if interrupted
	 */
	boolean sleepWhileRunning(Duration duration) {
		return sleep(duration, () -> this.running || this.state == EngineState.STARTING, () -> false);
	}

	/**
	 * Sleeps up to {@code duration} in steps of at most 50 ms while {@code awake} holds, returning early once
	 * {@code wakeEarly} does.
	 * @return false if interrupted
	 */
	private static boolean sleep(Duration duration, java.util.function.BooleanSupplier awake,
			java.util.function.BooleanSupplier wakeEarly) {
		long until = System.nanoTime() + duration.toNanos();
		try {
			while (awake.getAsBoolean()) {
				long left = until - System.nanoTime();
				if (left <= 0 || wakeEarly.getAsBoolean()) {
					return true;
				}
				Thread.sleep(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, 50));
			}
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
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
		if (this.state != EngineState.RUNNING) {
			throw new IllegalStateException("Cannot " + action + ": the engine of service '" + this.settings.serviceName()
					+ "' is " + this.state.name().toLowerCase());
		}
	}

	private void removeHandoffListener() {
		if (this.handoffTopic != null) {
			try {
				this.handoffTopic.removeListener(this.handoffListenerId);
			}
			catch (RuntimeException ex) {
				logger.debug("Could not unsubscribe from handoff messages", ex);
			}
		}
	}

	private void shutdownThreads() {
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
			try {
				this.scheduler.awaitTermination(1, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
	}

	private static boolean alive(Thread thread) {
		return thread != null && thread.isAlive();
	}

	private static void join(Thread thread) {
		if (thread == null || thread == Thread.currentThread()) {
			return;
		}
		try {
			thread.join(2000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private static ThreadFactory threads(String name) {
		AtomicInteger count = new AtomicInteger();
		return (runnable) -> {
			Thread thread = new Thread(runnable, name + ((count.getAndIncrement() == 0) ? "" : "-" + count.get()));
			thread.setDaemon(true);
			return thread;
		};
	}

}
