package io.streamlease.listener;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.micrometer.observation.ObservationRegistry;
import io.streamlease.HandlerFailedException;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import io.streamlease.ReleaseReason;
import io.streamlease.StreamLeaseEvent;
import io.streamlease.engine.StreamEvent;
import io.streamlease.engine.StreamEvents;
import io.streamlease.engine.StreamLeaseEngine;
import org.redisson.api.RedissonClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Runs one handler for one service: starts the service's engine, turns its events into handler runs (stream-level
 * here, entry-level through an {@link EntryReader}), ends failed runs through the {@link StreamHandlerErrorHandler},
 * cancels the run of a stream whose lease is lost or whose handler exceeds the handler timeout, and at shutdown
 * stops reading, gives running handlers the grace period and hands the rest off.
 */
public class StreamLeaseContainer {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseContainer.class);

	private final StreamHandlerEndpoint endpoint;

	private final StreamLeaseEngineFactory engineFactory;

	private final ContainerSettings settings;

	private final ApplicationEventPublisher publisher;

	private final RedissonClient redisson;

	private volatile HandlerInvoker invoker;

	private final HandlerRuns runs;

	private volatile StreamLeaseEngine engine;

	private volatile boolean running;

	private volatile boolean paused;

	private ExecutorService handlers;

	private ScheduledExecutorService retries;

	private HandlerTimeouts timeouts;

	private Thread dispatcher;

	private volatile EntryReader entryReader;

	/** Whether the data client and the engine's client use the same master (Sentinel mode), checked before a finish. */
	private volatile SentinelMasters masters = SentinelMasters.NONE;

	/**
	 * A container whose error policy is the one {@code settings} describe.
	 */
	public StreamLeaseContainer(StreamHandlerEndpoint endpoint, StreamLeaseEngineFactory engineFactory,
			ContainerSettings settings, ApplicationEventPublisher publisher, RedissonClient redisson) {
		this(endpoint, engineFactory, settings, publisher, redisson, settings.errorHandler());
	}

	/**
	 * @param errorHandler what happens when the handler fails (retry, dead letter)
	 */
	public StreamLeaseContainer(StreamHandlerEndpoint endpoint, StreamLeaseEngineFactory engineFactory,
			ContainerSettings settings, ApplicationEventPublisher publisher, RedissonClient redisson,
			StreamHandlerErrorHandler errorHandler) {
		this.endpoint = endpoint;
		this.engineFactory = engineFactory;
		this.settings = settings;
		this.publisher = publisher;
		this.redisson = redisson;
		this.invoker = new HandlerInvoker(endpoint);
		this.runs = new HandlerRuns(errorHandler, new EngineOperations(), settings);
	}

	/**
	 * Observes every invocation of the handler with this registry (see {@link StreamHandlerObservationContext});
	 * before start.
	 * @param convention null for the {@link DefaultStreamHandlerObservationConvention}
	 */
	void observeWith(ObservationRegistry registry, StreamHandlerObservationConvention convention) {
		this.invoker = new HandlerInvoker(this.endpoint, registry, convention);
	}

	public synchronized void start() {
		if (this.running) {
			return;
		}
		String service = this.endpoint.getService();
		this.engine = this.engineFactory.create(service, streamLimit());
		this.engine.onYieldRequested(this::yieldAsked);
		this.masters = SentinelMasters.of(this.redisson, this.engine.redisson());
		this.handlers = handlerExecutor(service);
		this.retries = Executors.newSingleThreadScheduledExecutor(threads("stream-lease-" + service + "-retries"));
		this.timeouts = new HandlerTimeouts(this.settings.handlerTimeout(), this.retries, this.endpoint);
		StreamEvents events;
		try {
			events = this.engine.start();
		}
		catch (RuntimeException ex) {
			this.handlers.shutdownNow();
			this.retries.shutdownNow();
			throw ex;
		}
		this.running = true;
		this.paused = false;
		if (this.endpoint.getMode() == StreamHandlerEndpoint.Mode.ENTRY) {
			this.entryReader = new EntryReader(service, this.redisson, this.settings, this.handlers, this.invoker,
					this.runs, this.timeouts, this.masters);
			this.entryReader.start(threads("stream-lease-" + service + "-entries"));
		}
		this.dispatcher = threads("stream-lease-" + service + "-dispatcher").newThread(() -> dispatch(events));
		this.dispatcher.start();
		logger.info("Started @StreamHandler {} ({}-level) for service '{}' as consumer '{}'", this.endpoint.describe(),
				this.endpoint.getMode().name().toLowerCase(), service, this.engine.id());
	}

	/**
	 * Stops taking streams, lets running handlers finish within the grace period, cancels the others and hands
	 * their streams off (or leaves them to lapse when handoff is off).
	 */
	public void stop() {
		synchronized (this) {
			if (!this.running) {
				return;
			}
			this.running = false;
		}
		long started = System.nanoTime();
		this.engine.stopReading();
		if (this.entryReader != null) {
			this.entryReader.stopPolling();
		}
		long graceEnd = started + this.settings.gracePeriod().toNanos();
		while (!this.runs.isEmpty() && System.nanoTime() - graceEnd < 0) {
			if (this.entryReader != null && this.entryReader.idle()) {
				break;
			}
			sleepQuietly(20);
		}
		if (this.entryReader != null) {
			this.entryReader.checkpointAll();
		}
		for (HandlerRun run : this.runs.all()) {
			run.cancel();
		}
		if (this.entryReader != null) {
			this.entryReader.stop();
		}
		this.handlers.shutdown();
		try {
			this.handlers.awaitTermination(1, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.retries.shutdownNow();
		this.engine.close();
		try {
			this.dispatcher.join(1000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		logger.info("Stopped @StreamHandler {} for service '{}' in {} ms", this.endpoint.describe(),
				this.endpoint.getService(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
	}

	/**
	 * Pauses the container: its engine stops reading the LBS and claiming (new streams go to peers) while it keeps
	 * renewing its session and its held streams, so nothing lapses. Without {@code handOff} the handlers of the held
	 * streams go on; with it, those streams are handed off to peers at once (entry-level progress is checkpointed
	 * first, running handlers are cancelled), and a peer resumes each from its checkpoint.
	 * @throws IllegalStateException if the container is not running
	 */
	public void pause(boolean handOff) {
		StreamLeaseEngine current;
		synchronized (this) {
			ensureRunning("pause");
			current = this.engine;
			this.paused = true;
		}
		current.pause();
		if (handOff) {
			handOffHeldStreams(current);
		}
	}

	/**
	 * Resumes a paused container: its engine reads the LBS and claims again.
	 * @throws IllegalStateException if the container is not running
	 */
	public void resume() {
		StreamLeaseEngine current;
		synchronized (this) {
			ensureRunning("resume");
			current = this.engine;
			this.paused = false;
		}
		current.resume();
	}

	/**
	 * Whether the container runs paused ({@link #pause(boolean)}).
	 */
	public boolean isPaused() {
		return this.running && this.paused;
	}

	/**
	 * Hands one held stream off to peers without finishing it: its handler run is cancelled (entry-level progress
	 * is checkpointed first) and its lease released, and a peer resumes it from its checkpoint. While the container
	 * is not paused, this consumer may be the one that claims it again.
	 * @return false if this consumer does not hold the stream
	 * @throws IllegalStateException if the container is not running
	 */
	public boolean handOff(String stream) {
		StreamLeaseEngine current;
		synchronized (this) {
			ensureRunning("hand off a stream of");
			current = this.engine;
		}
		LeasedStream lease = null;
		for (LeasedStream owned : current.ownedStreams()) {
			if (owned.name().equals(stream)) {
				lease = owned;
			}
		}
		if (lease == null) {
			return false;
		}
		if (this.entryReader != null) {
			this.entryReader.checkpointAll();
		}
		HandlerRun run = this.runs.get(stream);
		if (run != null && run.lease == lease) {
			this.runs.cancel(run);
		}
		current.handOff(lease);
		return true;
	}

	private void handOffHeldStreams(StreamLeaseEngine current) {
		if (this.entryReader != null) {
			this.entryReader.checkpointAll();
		}
		for (HandlerRun run : List.copyOf(this.runs.all())) {
			this.runs.cancel(run);
		}
		current.handOffHeld();
	}

	private void ensureRunning(String action) {
		if (!this.running) {
			throw new IllegalStateException("Cannot " + action + " @StreamHandler '" + this.endpoint.getId()
					+ "' of service '" + this.endpoint.getService() + "': its container is not running (start it first)");
		}
	}

	/**
	 * The most streams this container's handler can process at once: the handler threads when a stream-level
	 * handler holds a thread of a bounded pool for the whole stream (no virtual threads, and a method that does not
	 * return a {@link CompletionStage}), since streams beyond it would wait in the pool's queue, unprocessed and
	 * unavailable to peers; and the handler's own concurrency cap ({@code @StreamHandler(maxConcurrentStreams)}).
	 * Otherwise no limit.
	 */
	int streamLimit() {
		boolean holdsThread = this.endpoint.getMode() == StreamHandlerEndpoint.Mode.STREAM
				&& !CompletionStage.class.isAssignableFrom(this.endpoint.getMethod().getReturnType());
		int limit = (holdsThread && this.settings.boundedHandlerPool()) ? this.settings.threads() : Integer.MAX_VALUE;
		Integer cap = this.endpoint.getOverrides().maxConcurrentStreams();
		return (cap != null) ? Math.min(cap, limit) : limit;
	}

	/**
	 * XREAD commands of the entry reader in flight now (0 for a stream-level handler or before start).
	 */
	public int entryReadsInFlight() {
		EntryReader reader = this.entryReader;
		return (reader != null) ? reader.readsInFlight() : 0;
	}

	/**
	 * Checkpoint and finishing calls of the entry reader in flight now (0 for a stream-level handler or before start).
	 */
	public int entryCheckpointsInFlight() {
		EntryReader reader = this.entryReader;
		return (reader != null) ? reader.checkpointsInFlight() : 0;
	}

	public boolean isRunning() {
		return this.running;
	}

	public StreamHandlerEndpoint getEndpoint() {
		return this.endpoint;
	}

	/**
	 * The engine of the service, null before start.
	 */
	public StreamLeaseEngine getEngine() {
		return this.engine;
	}

	// ---- events

	private void dispatch(StreamEvents events) {
		while (true) {
			StreamEvent event;
			try {
				event = events.take();
			}
			catch (InterruptedException ex) {
				return;
			}
			try {
				switch (event.type()) {
					case ADDED -> added(event.lease());
					case DISOWNED -> disowned(event.stream(), event.lease());
					default -> {
					}
				}
				publish(event);
			}
			catch (RuntimeException ex) {
				logger.error("Failed to handle {} of stream '{}'", event.type(), event.stream(), ex);
			}
			if (event.type() == StreamEvent.Type.TERMINATED) {
				if (this.running) {
					logger.error("The engine of service '{}' terminated: {}. This instance processes no more streams of "
							+ "the service; it reports itself not ready (readiness REFUSING_TRAFFIC) until it is restarted.",
							this.endpoint.getService(), event.reason());
					for (HandlerRun run : this.runs.all()) {
						run.cancel();
					}
					if (this.publisher != null) {
						AvailabilityChangeEvent.publish(this.publisher, this, ReadinessState.REFUSING_TRAFFIC);
					}
				}
				return;
			}
		}
	}

	private void publish(StreamEvent event) {
		if (this.publisher != null) {
			StreamLeaseEvent.Origin origin = (event.type() != StreamEvent.Type.ADDED) ? null
					: event.lease().recovered() ? StreamLeaseEvent.Origin.CLAIMED : StreamLeaseEvent.Origin.NEW;
			this.publisher.publishEvent(new StreamLeaseEvent(this.endpoint.getService(), this.engine.id(),
					StreamLeaseEvent.Type.valueOf(event.type().name()), event.stream(), event.reason(), origin));
		}
	}

	private void added(LeasedStream lease) {
		if (!lease.isOwned()) {
			// not (or no longer) safely owned when its event arrives: give it back rather than hold it unprocessed
			// (nothing happens if the engine already disowned it)
			this.engine.handOff(lease);
			return;
		}
		HandlerRun run = new HandlerRun(lease);
		HandlerRun previous = this.runs.put(run);
		if (previous != null) {
			previous.cancel();
		}
		if (this.endpoint.getMode() == StreamHandlerEndpoint.Mode.ENTRY) {
			this.entryReader.add(run);
		}
		else {
			submitStreamRun(run);
		}
		if (this.engine.isYieldRequested(lease)) {
			// asked before this run was registered, so the engine's listener found no run
			yieldRequested(run);
		}
	}

	/** The engine's yield listener: a rebalance asked this consumer to yield a held stream. */
	private void yieldAsked(LeasedStream lease) {
		HandlerRun run = this.runs.get(lease.name());
		if (run != null && run.lease == lease) {
			yieldRequested(run);
		}
	}

	/**
	 * A rebalance asked this consumer to yield the stream: an entry-level run stops between entries, checkpoints and
	 * hands the stream off; a stream-level handler sees {@code released()} complete and should checkpoint and return
	 * (its stream is then handed off, not finished). Whatever still runs after the rebalance grace period is
	 * interrupted and its stream handed off.
	 */
	private void yieldRequested(HandlerRun run) {
		synchronized (run) {
			if (run.yielding) {
				return;
			}
			run.yielding = true;
		}
		if (this.entryReader != null) {
			this.entryReader.yieldStream(run);
		}
		long grace = this.engine.settings().rebalance().gracePeriod().toMillis();
		try {
			this.retries.schedule(() -> {
				if (this.runs.get(run.lease.name()) == run) {
					logger.debug("The handler of stream '{}' did not yield within the rebalance grace period ({} ms): "
							+ "interrupting it and handing the stream off", run.lease.name(), grace);
					run.cancel();
					this.runs.yielded(run);
				}
			}, grace, TimeUnit.MILLISECONDS);
		}
		catch (RuntimeException ex) {
			// stopping: the stream is handed off with the rest
		}
	}

	private void disowned(String stream, LeasedStream lease) {
		HandlerRun run = this.runs.get(stream);
		if (run != null && run.lease == lease) {
			this.runs.cancel(run);
			logger.debug("Cancelled the handler of stream '{}': its lease was lost", stream);
		}
	}

	// ---- stream-level runs

	private void submitStreamRun(HandlerRun run) {
		if (run.cancelled || !this.running && this.handlers.isShutdown()) {
			return;
		}
		if (run.yielding) {
			this.runs.yielded(run);
			return;
		}
		run.future = this.handlers.submit(() -> runStream(run));
	}

	private void runStream(HandlerRun run) {
		long started = System.nanoTime();
		Object dataMaster = this.masters.dataMaster();
		HandlerTimeouts.Watch watch = this.timeouts.start(run.lease.name(), "");
		Object result;
		try {
			result = this.invoker.invokeStream(run.lease);
		}
		catch (HandlerFailedException ex) {
			retryLater(run, watch.end() ? ex : watch.failure(ex), started);
			return;
		}
		if (result instanceof CompletionStage<?> stage) {
			if (!watch.completesWith(stage)) {
				watch.end();
				retryLater(run, watch.failure(null), started);
				return;
			}
			stage.whenComplete((value, failure) -> {
				if (!watch.end()) {
					retryLater(run, watch.failure(failure), started);
				}
				else if (failure != null) {
					retryLater(run, new HandlerFailedException("@StreamHandler method " + this.endpoint.describe()
							+ " completed exceptionally on stream '" + run.lease.name() + "': " + failure, run.lease.name(),
							failure), started);
				}
				else {
					finished(run, started, dataMaster);
				}
			});
		}
		else if (!watch.end()) {
			retryLater(run, watch.failure(null), started);
		}
		else {
			finished(run, started, dataMaster);
		}
	}

	/**
	 * The handler returned: finishes the stream, unless the data client's writes may have gone to another master
	 * than the one the stream would be finished on (Sentinel mode, {@link SentinelMasters}): then it is handed off
	 * and runs again from its checkpoint, without counting an attempt.
	 * @param dataMaster the data client's master when the run started
	 */
	private void finished(HandlerRun run, long started, Object dataMaster) {
		if (run.cancelled) {
			this.runs.record(run, "cancelled", started);
			return;
		}
		if (run.yielding || askedToYield(run.lease)) {
			// returned after a rebalance asked it to yield: handed off, resumed by the peer from its checkpoint
			this.runs.record(run, "cancelled", started);
			this.runs.yielded(run);
			return;
		}
		try {
			String split = this.masters.split(dataMaster);
			if (split != null) {
				this.runs.record(run, "retried", started);
				this.masters.logRefused("finishing", run.lease.name(), split);
				this.runs.handOff(run);
				return;
			}
			run.lease.done();
			this.runs.record(run, "success", started);
		}
		catch (LeaseLostException ex) {
			this.runs.record(run, "cancelled", started);
			logger.debug("Stream '{}' was lost before it could be finished: {}", run.lease.name(), ex.getMessage());
		}
		catch (RuntimeException ex) {
			this.runs.record(run, "error", started);
			logger.warn("Could not finish stream '{}' ({}); handing it off, so that it runs again from its checkpoint "
					+ "(unless the engine retries the finish itself)", run.lease.name(), ex.getMessage());
			this.runs.handOff(run);
		}
		finally {
			this.runs.ended(run);
		}
	}

	/**
	 * Whether the handler may have seen a yield request: its {@code released()} completed with REBALANCE. Checked
	 * besides the run's own flag, which the engine's yield listener sets: a run registered after the request was
	 * announced gets the flag from {@link #added} only once its handler was submitted, and that handler may see
	 * the request, checkpoint and return first (finishing the stream then would lose the rest of its work).
	 */
	private static boolean askedToYield(LeasedStream lease) {
		return lease.released().toCompletableFuture().getNow(null) == ReleaseReason.REBALANCE;
	}

	private void retryLater(HandlerRun run, HandlerFailedException failure, long started) {
		Duration delay = this.runs.failed(run, failure, started);
		if (delay != null && !this.retries.isShutdown()) {
			this.retries.schedule(() -> submitStreamRun(run), delay.toMillis(), TimeUnit.MILLISECONDS);
		}
	}

	/**
	 * The handler runs in progress, for the actuator endpoint.
	 */
	public Collection<LeasedStream> runningStreams() {
		List<LeasedStream> streams = new ArrayList<>();
		for (HandlerRun run : this.runs.all()) {
			streams.add(run.lease);
		}
		return streams;
	}

	/**
	 * The engine's operations on held streams, for {@link HandlerRuns}.
	 */
	private final class EngineOperations implements HandlerRuns.HeldStreamOperations {

		@Override
		public int countAttempt(LeasedStream stream) {
			return StreamLeaseContainer.this.engine.countAttempt(stream);
		}

		@Override
		public void deadLetter(LeasedStream stream, String detail) {
			StreamLeaseContainer.this.engine.deadLetter(stream, detail);
		}

		@Override
		public void handOff(LeasedStream stream) {
			StreamLeaseContainer.this.engine.handOff(stream);
		}

		@Override
		public void record(LeasedStream stream, String outcome, Duration duration) {
			StreamLeaseContainer.this.engine.metrics().handlerInvocation(stream.name(), outcome, duration);
		}

	}

	private ExecutorService handlerExecutor(String service) {
		if (!this.settings.boundedHandlerPool()) {
			try {
				Method factory = Executors.class.getMethod("newVirtualThreadPerTaskExecutor");
				return (ExecutorService) factory.invoke(null);
			}
			catch (ReflectiveOperationException ex) {
				logger.debug("Virtual threads are not available; using a pool", ex);
			}
		}
		return Executors.newFixedThreadPool(this.settings.threads(), threads("stream-lease-" + service + "-handler"));
	}

	static ThreadFactory threads(String name) {
		AtomicInteger count = new AtomicInteger();
		return (runnable) -> {
			int n = count.incrementAndGet();
			Thread thread = new Thread(runnable, (n == 1) ? name : name + "-" + n);
			thread.setDaemon(true);
			return thread;
		};
	}

	static void sleepQuietly(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
