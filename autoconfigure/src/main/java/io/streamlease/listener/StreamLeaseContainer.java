package io.streamlease.listener;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import io.streamlease.ReleaseReason;
import io.streamlease.StreamLeaseEvent;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.StreamEvent;
import io.streamlease.engine.StreamEvents;
import io.streamlease.engine.StreamLeaseEngine;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.redisson.api.RedissonClient;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;

/**
 * Runs one handler for one service: starts the service's engine, turns its events into handler runs, applies
 * the error policy, cancels the run of a stream whose lease is lost, and at shutdown stops reading, gives running
 * handlers the grace period and hands the rest off.
 */
public class StreamLeaseContainer {

	private static final Log logger = LogFactory.getLog(StreamLeaseContainer.class);

	private final StreamHandlerEndpoint endpoint;

	private final StreamLeaseEngineFactory engineFactory;

	private final ContainerSettings settings;

	private final ApplicationEventPublisher publisher;

	private final RedissonClient redisson;

	private final HandlerInvoker invoker;

	private final Map<String, HandlerRun> runs = new ConcurrentHashMap<>();

	private volatile StreamLeaseEngine engine;

	private volatile boolean running;

	private ExecutorService handlers;

	private ScheduledExecutorService retries;

	private Thread dispatcher;

	private volatile EntryReader entryReader;

	public StreamLeaseContainer(StreamHandlerEndpoint endpoint, StreamLeaseEngineFactory engineFactory,
			ContainerSettings settings, ApplicationEventPublisher publisher, RedissonClient redisson) {
		this.endpoint = endpoint;
		this.engineFactory = engineFactory;
		this.settings = settings;
		this.publisher = publisher;
		this.redisson = redisson;
		this.invoker = new HandlerInvoker(endpoint);
	}

	public synchronized void start() {
		if (this.running) {
			return;
		}
		String service = this.endpoint.getService();
		this.engine = this.engineFactory.create(service, streamLimit());
		this.handlers = handlerExecutor(service);
		this.retries = Executors.newSingleThreadScheduledExecutor(threads("stream-lease-" + service + "-retries"));
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
		if (this.endpoint.getMode() == StreamHandlerEndpoint.Mode.ENTRY) {
			this.entryReader = new EntryReader(this, this.redisson, this.settings);
			this.entryReader.start(threads("stream-lease-" + service + "-entries"));
		}
		this.dispatcher = threads("stream-lease-" + service + "-dispatcher").newThread(() -> dispatch(events));
		this.dispatcher.start();
		logger.info("Started @StreamHandler " + this.endpoint.describe() + " (" + this.endpoint.getMode().name().toLowerCase()
				+ "-level) for service '" + service + "' as consumer '" + this.engine.id() + "'");
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
		for (HandlerRun run : this.runs.values()) {
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
		logger.info("Stopped @StreamHandler " + this.endpoint.describe() + " for service '" + this.endpoint.getService()
				+ "' in " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms");
	}

	/**
	 * The most streams this container's handler can process at once: the handler threads when a stream-level
	 * handler holds a thread of a bounded pool for the whole stream (no virtual threads, and a method that does not
	 * return a {@link CompletionStage}); otherwise no limit. Streams beyond it would wait in the pool's queue,
	 * unprocessed and unavailable to peers.
	 */
	int streamLimit() {
		boolean holdsThread = this.endpoint.getMode() == StreamHandlerEndpoint.Mode.STREAM
				&& !CompletionStage.class.isAssignableFrom(this.endpoint.getMethod().getReturnType());
		return (holdsThread && this.settings.boundedHandlerPool()) ? this.settings.threads() : Integer.MAX_VALUE;
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
				logger.error("Failed to handle " + event.type() + " of stream '" + event.stream() + "'", ex);
			}
			if (event.type() == StreamEvent.Type.TERMINATED) {
				if (this.running) {
					logger.error("The engine of service '" + this.endpoint.getService() + "' terminated: " + event.reason()
							+ ". This instance processes no more streams of the service; it reports itself not ready "
							+ "(readiness REFUSING_TRAFFIC) until it is restarted.");
					for (HandlerRun run : this.runs.values()) {
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
			this.publisher.publishEvent(new StreamLeaseEvent(this.endpoint.getService(), this.engine.id(),
					StreamLeaseEvent.Type.valueOf(event.type().name()), event.stream(), event.reason()));
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
		HandlerRun previous = this.runs.put(lease.name(), run);
		if (previous != null) {
			previous.cancel();
		}
		if (this.endpoint.getMode() == StreamHandlerEndpoint.Mode.ENTRY) {
			this.entryReader.add(run);
		}
		else {
			submitStreamRun(run);
		}
		lease.released().thenAccept((reason) -> {
			if (reason == ReleaseReason.REBALANCE) {
				yieldRequested(run);
			}
		});
	}

	/**
	 * A rebalance asked this consumer to yield the stream: an entry-level run stops between entries, checkpoints and
	 * hands the stream off; a stream-level handler sees {@code released()} complete and should checkpoint and return
	 * (its stream is then handed off, not finished). Whatever still runs after the rebalance grace period is
	 * interrupted and its stream handed off.
	 */
	private void yieldRequested(HandlerRun run) {
		run.yielding = true;
		if (this.entryReader != null) {
			this.entryReader.yieldStream(run);
		}
		long grace = this.engine.settings().rebalance().gracePeriod().toMillis();
		try {
			this.retries.schedule(() -> {
				if (this.runs.get(run.lease.name()) == run) {
					logger.debug("The handler of stream '" + run.lease.name() + "' did not yield within the rebalance grace "
							+ "period (" + grace + " ms): interrupting it and handing the stream off");
					run.cancel();
					yielded(run);
				}
			}, grace, TimeUnit.MILLISECONDS);
		}
		catch (RuntimeException ex) {
			// stopping: the stream is handed off with the rest
		}
	}

	/** A run let go of a stream a rebalance asked it to yield: the stream is handed off, not finished. */
	void yielded(HandlerRun run) {
		this.runs.remove(run.lease.name(), run);
		this.engine.handOff(run.lease);
	}

	private void disowned(String stream, LeasedStream lease) {
		HandlerRun run = this.runs.get(stream);
		if (run != null && run.lease == lease) {
			this.runs.remove(stream, run);
			run.cancel();
			logger.debug("Cancelled the handler of stream '" + stream + "': its lease was lost");
		}
	}

	// ---- stream-level runs

	private void submitStreamRun(HandlerRun run) {
		if (run.cancelled || !this.running && this.handlers.isShutdown()) {
			return;
		}
		if (run.yielding) {
			yielded(run);
			return;
		}
		run.future = this.handlers.submit(() -> runStream(run));
	}

	private void runStream(HandlerRun run) {
		long started = System.nanoTime();
		Object result;
		try {
			result = this.invoker.invokeStream(run.lease);
		}
		catch (HandlerFailedException ex) {
			retryLater(run, ex, started);
			return;
		}
		if (result instanceof CompletionStage<?> stage) {
			stage.whenComplete((value, failure) -> {
				if (failure != null) {
					retryLater(run, new HandlerFailedException("@StreamHandler method " + this.endpoint.describe()
							+ " completed exceptionally on stream '" + run.lease.name() + "': " + failure, run.lease.name(),
							failure), started);
				}
				else {
					finished(run, started);
				}
			});
		}
		else {
			finished(run, started);
		}
	}

	private void finished(HandlerRun run, long started) {
		if (run.cancelled) {
			record(run, "cancelled", started);
			return;
		}
		if (run.yielding) {
			// returned after a rebalance asked it to yield: handed off, resumed by the peer from its checkpoint
			record(run, "cancelled", started);
			yielded(run);
			return;
		}
		try {
			run.lease.done();
			record(run, "success", started);
		}
		catch (LeaseLostException ex) {
			record(run, "cancelled", started);
			logger.debug("Stream '" + run.lease.name() + "' was lost before it could be finished: " + ex.getMessage());
		}
		catch (RuntimeException ex) {
			record(run, "error", started);
			logger.warn("Could not finish stream '" + run.lease.name() + "' (" + ex.getMessage() + "); handing it off, "
					+ "so that it runs again from its checkpoint (unless the engine retries the finish itself)");
			this.engine.handOff(run.lease);
		}
		finally {
			this.runs.remove(run.lease.name(), run);
		}
	}

	// ---- the error policy, shared by both modes

	/**
	 * A handler failed: decide between a retry after a back-off and the dead-letter stream (attempts exhausted, or
	 * a failure that cannot succeed on retry). A failure of a cancelled run is only recorded.
	 * @return the delay before the retry, or null when the run is over
	 */
	Duration retryDelay(HandlerRun run, HandlerFailedException failure, long started) {
		if (run.cancelled || !run.lease.isOwned()) {
			record(run, "cancelled", started);
			this.runs.remove(run.lease.name(), run);
			return null;
		}
		int attempts;
		try {
			attempts = this.engine.countAttempt(run.lease);
		}
		catch (LeaseLostException ex) {
			record(run, "cancelled", started);
			this.runs.remove(run.lease.name(), run);
			return null;
		}
		catch (RuntimeException ex) {
			// Redis could not count it (unreachable, most likely the very reason the handler failed): not an attempt
			// of the handler's own; retry after a growing back-off and count again once Redis answers
			run.uncounted++;
			Duration delay = this.settings.backoff(run.uncounted);
			record(run, "retried", started);
			logger.warn(failure.getMessage() + " (not counted as an attempt: Redis could not count it: " + ex.getMessage()
					+ "); retrying in " + delay.toMillis() + " ms");
			return delay;
		}
		run.uncounted = 0;
		boolean permanent = HandlerInvoker.isPermanent(failure);
		if (!permanent && attempts < this.settings.maxAttempts()) {
			Duration delay = this.settings.backoff(attempts);
			record(run, "retried", started);
			logger.warn(failure.getMessage() + " (attempt " + attempts + " of " + this.settings.maxAttempts()
					+ "); retrying in " + delay.toMillis() + " ms");
			return delay;
		}
		String detail = failure.getMessage() + (permanent ? " (not retried: the arguments cannot be resolved)"
				: " (attempt " + attempts + " of " + this.settings.maxAttempts() + ")");
		try {
			this.engine.deadLetter(run.lease, detail);
			record(run, "dead-lettered", started);
			logger.error(detail + "; the stream was moved to the dead-letter stream", failure.getCause());
		}
		catch (RuntimeException ex) {
			record(run, "error", started);
			logger.error(detail + "; moving it to the dead-letter stream failed too (" + ex.getMessage() + ")",
					failure.getCause());
		}
		this.runs.remove(run.lease.name(), run);
		return null;
	}

	private void retryLater(HandlerRun run, HandlerFailedException failure, long started) {
		Duration delay = retryDelay(run, failure, started);
		if (delay != null && !this.retries.isShutdown()) {
			this.retries.schedule(() -> submitStreamRun(run), delay.toMillis(), TimeUnit.MILLISECONDS);
		}
	}

	void record(HandlerRun run, String outcome, long started) {
		EngineMetrics metrics = this.engine.metrics();
		metrics.handlerInvocation(run.lease.name(), outcome, Duration.ofNanos(System.nanoTime() - started));
	}

	HandlerInvoker invoker() {
		return this.invoker;
	}

	ExecutorService handlers() {
		return this.handlers;
	}

	Map<String, HandlerRun> runs() {
		return this.runs;
	}

	/**
	 * The handler runs in progress, for the actuator endpoint.
	 */
	public Collection<LeasedStream> runningStreams() {
		List<LeasedStream> streams = new ArrayList<>();
		for (HandlerRun run : this.runs.values()) {
			streams.add(run.lease);
		}
		return streams;
	}

	/**
	 * One stream being processed by the handler.
	 */
	static final class HandlerRun {

		final LeasedStream lease;

		volatile boolean cancelled;

		/** A rebalance asked the run to yield its stream. */
		volatile boolean yielding;

		volatile Future<?> future;

		/** Failures in a row whose attempt Redis could not count (it was unreachable). */
		volatile int uncounted;

		HandlerRun(LeasedStream lease) {
			this.lease = lease;
		}

		void cancel() {
			this.cancelled = true;
			Future<?> running = this.future;
			if (running != null) {
				running.cancel(true);
			}
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
