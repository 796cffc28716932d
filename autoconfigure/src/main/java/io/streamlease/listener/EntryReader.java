package io.streamlease.listener;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.locks.LockSupport;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeaseLostException;
import io.streamlease.StreamEntry;
import org.redisson.api.BatchOptions;
import org.redisson.api.RBatch;
import org.redisson.api.RFuture;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.api.stream.StreamMultiReadArgs;
import org.redisson.client.codec.StringCodec;
import org.redisson.connection.CRC16;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds an entry-level handler. One thread decides which held data streams to read and reads them with
 * multi-key XREADs (up to {@value #READ_CHUNK} streams in one command, grouped by hash slot on a cluster), at most
 * {@code max-in-flight-reads} commands at a time; each stream's new entries go to the handler executor as one
 * batch, so entries of one stream are handled in order and streams in parallel.
 * <p>
 * What makes a stream due for a read:
 * <ul>
 * <li>its keyspace {@code xadd} event ({@link DataStreamNotifications}), when the server sends them: an idle
 * stream costs Redis nothing until it gets an entry;</li>
 * <li>its previous batch filled the read (there may be more), or it was just acquired;</li>
 * <li>its idle delay passed: with notifications, the safety poll ({@code safety-poll-interval}, because events
 * are at-most-once); without them, a delay that doubles from {@code poll-interval} to {@code max-poll-interval}.</li>
 * </ul>
 * Backpressure: at most a bounded number of streams have a read in flight or a batch queued or running; checkpoint
 * and finishing calls (fenced scripts on the engine's client) are limited to {@code max-in-flight-checkpoints} at a
 * time, so that data traffic never takes every connection that renewals need. The position and the state are
 * checkpointed under the fencing token every checkpoint-every entries, at least every checkpoint-interval, and when
 * the stream is caught up.
 * <p>
 * It gets what it needs of its container through its constructor: the handler executor, the invoker, the runs in
 * progress (which end failed runs through the error policy) and the handler timeout; it holds no reference back.
 */
final class EntryReader {

	private static final Logger logger = LoggerFactory.getLogger(EntryReader.class);

	/**
	 * A checkpoint state key (hidden from handlers) that marks a stream whose handler completed it: if the stream
	 * is announced again, the new run finishes at once unless entries were added after the completion.
	 */
	static final String COMPLETED = "stream-lease.completed";

	/** Data streams in one XREAD command. */
	static final int READ_CHUNK = 500;

	/** How often the server's notification flags are checked again (a restarted server forgets a CONFIG SET). */
	private static final long NOTIFICATION_CHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

	private static final long MIN_GRAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

	private static final long MAX_GRAIN_NANOS = TimeUnit.SECONDS.toNanos(1);

	private final RedissonClient redisson;

	private final ExecutorService handlers;

	private final HandlerInvoker invoker;

	private final HandlerRuns runs;

	private final HandlerTimeouts timeouts;

	private final ContainerSettings settings;

	private final boolean cluster;

	private final Map<String, EntryRun> streams = new ConcurrentHashMap<>();

	/** Streams that want the reader's attention: acquired, notified, or their batch ended. */
	private final Queue<EntryRun> woken = new ConcurrentLinkedQueue<>();

	/** Reads that completed, handled by the reader thread. */
	private final Queue<CompletedRead> completed = new ConcurrentLinkedQueue<>();

	/**
	 * Idle streams by {@link EntryRun#dueAt} (reader thread only). A stream is in it at most once; when it is read
	 * meanwhile or wants a later read, it is dropped or put back when it comes up.
	 */
	private final PriorityQueue<EntryRun> schedule = new PriorityQueue<>(
			(first, second) -> Long.compare(first.dueAt - second.dueAt, 0));

	/**
	 * Streams due for a read that did not fit into the reads in flight yet (reader thread only): first those with
	 * news (notified, just acquired, last read full), then the background (safety poll, poll, resync).
	 */
	private final ArrayDeque<EntryRun> urgent = new ArrayDeque<>();

	private final ArrayDeque<EntryRun> background = new ArrayDeque<>();

	/** A check of the notification flags is running (off the reader thread: it waits for Redis). */
	private final AtomicBoolean checking = new AtomicBoolean();

	private final Semaphore checkpointPermits;

	private final AtomicInteger readsInFlight = new AtomicInteger();

	/** Streams with a read in flight or a batch (or checkpoint) queued or running. */
	private final AtomicInteger busyStreams = new AtomicInteger();

	private final int busyLimit;

	private final DataStreamNotifications notifications;

	private final SentinelMasters masters;

	private volatile boolean polling = true;

	private volatile boolean stopped;

	/** Set when notifications may have been missed: every stream is read soon. */
	private volatile boolean resync;

	private volatile boolean checkRequested;

	private boolean notificationsActive;

	private Thread thread;

	/**
	 * @param service the service (for the change notifications)
	 * @param redisson the client of data traffic
	 * @param settings the container's settings
	 * @param handlers runs the batches of entries
	 * @param invoker calls the handler method
	 * @param runs the container's runs in progress: outcomes, the error policy
	 * @param timeouts the handler timeout, per entry
	 * @param masters whether the data client and the engine's client use the same master, checked before every
	 * checkpoint and finish
	 */
	EntryReader(String service, RedissonClient redisson, ContainerSettings settings, ExecutorService handlers,
			HandlerInvoker invoker, HandlerRuns runs, HandlerTimeouts timeouts, SentinelMasters masters) {
		this.redisson = redisson;
		this.masters = masters;
		this.settings = settings;
		this.handlers = handlers;
		this.invoker = invoker;
		this.runs = runs;
		this.timeouts = timeouts;
		this.cluster = redisson.getConfig().isClusterConfig();
		this.checkpointPermits = new Semaphore(settings.maxInFlightCheckpoints());
		this.busyLimit = settings.boundedHandlerPool() ? Math.max(READ_CHUNK, 4 * settings.threads()) : 4 * READ_CHUNK;
		this.notifications = settings.changeNotifications()
				? new DataStreamNotifications(redisson, service, this::notified, this::resubscribed)
				: null;
	}

	void start(ThreadFactory threads) {
		this.thread = threads.newThread(this::loop);
		this.thread.start();
	}

	void add(HandlerRun run) {
		EntryRun stream = new EntryRun(run);
		stream.again = true;
		stream.dataMaster = this.masters.dataMaster();
		EntryRun previous = this.streams.put(run.lease.name(), stream);
		if (previous != null) {
			previous.finished = true;
		}
		wake(stream);
	}

	/**
	 * A rebalance asked to yield the run's stream: it stops between entries, checkpoints and is handed off (entries
	 * read but not handled are left to the next owner, which reads them again from the checkpoint).
	 */
	void yieldStream(HandlerRun run) {
		EntryRun stream = this.streams.get(run.lease.name());
		if (stream != null && stream.run == run) {
			stream.yielding = true;
			wake(stream);
		}
	}

	/** Stops reading new entries; batches in progress go on. */
	void stopPolling() {
		this.polling = false;
	}

	/** Whether no read or batch is in progress. */
	boolean idle() {
		return this.busyStreams.get() == 0;
	}

	/** XREAD commands in flight now. */
	int readsInFlight() {
		return this.readsInFlight.get();
	}

	/** Checkpoint and finishing calls in flight now. */
	int checkpointsInFlight() {
		return this.settings.maxInFlightCheckpoints() - this.checkpointPermits.availablePermits();
	}

	/** Checkpoints every stream that made progress, stops the reader thread. */
	void stop() {
		this.polling = false;
		this.stopped = true;
		if (this.thread != null) {
			LockSupport.unpark(this.thread);
			try {
				this.thread.join(1000);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}
		if (this.notifications != null) {
			this.notifications.stop();
		}
	}

	/**
	 * Checkpoints every stream with progress not yet checkpointed and no batch running (before a handoff, so that
	 * the peer resumes exactly where this consumer stopped).
	 */
	void checkpointAll() {
		for (EntryRun stream : this.streams.values()) {
			if (!stream.busy && stream.dirty()) {
				checkpoint(stream);
			}
		}
	}

	// ---- signals from other threads

	/** A keyspace xadd event: on Redisson's threads, for every stream of the database that got an entry. */
	private void notified(String name) {
		EntryRun stream = this.streams.get(name);
		if (stream != null) {
			stream.wanted = true;
			wake(stream);
		}
	}

	private void resubscribed() {
		this.resync = true;
		this.checkRequested = true;
		LockSupport.unpark(this.thread);
	}

	private void wake(EntryRun stream) {
		if (EntryRun.QUEUED.compareAndSet(stream, 0, 1)) {
			this.woken.add(stream);
			Thread reader = this.thread;
			if (reader != null) {
				LockSupport.unpark(reader);
			}
		}
	}

	// ---- the reader thread

	private void loop() {
		long nextCheck = System.nanoTime();
		while (!this.stopped) {
			try {
				long now = System.nanoTime();
				if (this.notifications != null && (this.checkRequested || now - nextCheck >= 0)
						&& this.checking.compareAndSet(false, true)) {
					this.checkRequested = false;
					nextCheck = now + NOTIFICATION_CHECK_NANOS;
					CompletableFuture.runAsync(() -> {
						try {
							this.notifications.check();
						}
						finally {
							this.checking.set(false);
							LockSupport.unpark(this.thread);
						}
					});
				}
				boolean active = this.notifications != null && this.notifications.active();
				if (active != this.notificationsActive) {
					// the idle delays change: read everything once, then schedule by the new rule
					this.notificationsActive = active;
					for (EntryRun scheduled : this.schedule) {
						scheduled.scheduled = false;
					}
					this.schedule.clear();
					this.resync = true;
				}
				handleCompletedReads();
				long wait = TimeUnit.SECONDS.toNanos(1);
				if (this.polling) {
					collectDueStreams();
					issueReads();
					EntryRun next = this.schedule.peek();
					if (next != null) {
						wait = Math.min(wait, next.dueAt - System.nanoTime());
					}
				}
				if (this.notifications != null) {
					wait = Math.min(wait, nextCheck - System.nanoTime());
				}
				boolean more = this.polling && (!this.woken.isEmpty() || this.resync || readable());
				if (this.completed.isEmpty() && !more) {
					LockSupport.parkNanos(this, Math.max(wait, TimeUnit.MILLISECONDS.toNanos(1)));
				}
			}
			catch (RuntimeException ex) {
				logger.warn("Reading data streams failed ({}); trying again", ex.getMessage());
				LockSupport.parkNanos(this, this.settings.pollInterval().toNanos());
			}
		}
	}

	private boolean canRead() {
		return this.readsInFlight.get() < this.settings.maxInFlightReads() && this.busyStreams.get() < this.busyLimit;
	}

	/**
	 * Whether a background read (safety poll, poll, resync) may be sent: it leaves one read and a quarter of the busy
	 * budget to streams with news, so that a notified stream is never queued behind the safety poll's reads (at
	 * 100,000 held streams and a 30 s safety poll, about 3,300 idle streams come due every second).
	 */
	private boolean canReadBackground() {
		int reads = Math.max(1, this.settings.maxInFlightReads() - 1);
		return this.readsInFlight.get() < reads && this.busyStreams.get() < this.busyLimit - this.busyLimit / 4;
	}

	private boolean readable() {
		return (!this.urgent.isEmpty() && canRead()) || (!this.background.isEmpty() && canReadBackground());
	}

	private void collectDueStreams() {
		if (this.resync) {
			// read every stream once, behind the streams with news; those busy now read again after their batch
			this.resync = false;
			for (EntryRun stream : this.streams.values()) {
				if (stream.busy) {
					stream.again = true;
				}
				else if (!stream.inDue && valid(stream)) {
					markDue(stream, false);
				}
			}
		}
		EntryRun stream;
		while ((stream = this.woken.poll()) != null) {
			EntryRun.QUEUED.set(stream, 0);
			if (!valid(stream) || stream.busy || stream.inDue) {
				continue;
			}
			if (stream.yielding) {
				startYield(stream);
				continue;
			}
			if (stream.wanted || stream.again) {
				markDue(stream, true);
			}
			else {
				scheduleIdle(stream);
			}
		}
		long now = System.nanoTime();
		EntryRun scheduled;
		while ((scheduled = this.schedule.peek()) != null && scheduled.dueAt - now <= 0) {
			this.schedule.poll();
			scheduled.scheduled = false;
			if (scheduled.wantedAt == 0 || !valid(scheduled) || scheduled.busy || scheduled.inDue) {
				// read meanwhile (it is scheduled again when it goes idle), or gone
				continue;
			}
			if (scheduled.wantedAt - now > 0) {
				// it went idle again after this position was taken: put it back for the later time
				enqueue(scheduled, scheduled.wantedAt);
				continue;
			}
			scheduled.wantedAt = 0;
			markDue(scheduled, false);
		}
	}

	private void markDue(EntryRun stream, boolean news) {
		stream.inDue = true;
		(news ? this.urgent : this.background).add(stream);
	}

	private boolean valid(EntryRun stream) {
		if (stream.run.cancelled || stream.finished) {
			this.streams.remove(stream.run.lease.name(), stream);
			return false;
		}
		return this.streams.get(stream.run.lease.name()) == stream;
	}

	private void issueReads() {
		while (readable()) {
			int busy = this.busyStreams.get();
			int room = Math.min(READ_CHUNK, this.busyLimit - busy);
			// background streams only within their share, whether the read also carries streams with news or not
			int backgroundRoom = canReadBackground() ? Math.min(room, this.busyLimit - this.busyLimit / 4 - busy) : 0;
			List<EntryRun> chunk = new ArrayList<>(Math.min(room, this.urgent.size() + this.background.size()));
			while (chunk.size() < room && (!this.urgent.isEmpty() || (!this.background.isEmpty() && chunk.size() < backgroundRoom))) {
				EntryRun stream = !this.urgent.isEmpty() ? this.urgent.poll() : this.background.poll();
				stream.inDue = false;
				if (!valid(stream) || stream.busy) {
					continue;
				}
				if (stream.yielding) {
					startYield(stream);
					continue;
				}
				stream.busy = true;
				stream.wanted = false;
				stream.again = false;
				stream.wantedAt = 0;
				this.busyStreams.incrementAndGet();
				chunk.add(stream);
			}
			if (chunk.isEmpty()) {
				return;
			}
			this.readsInFlight.incrementAndGet();
			CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>> read;
			try {
				read = read(chunk);
			}
			catch (RuntimeException ex) {
				read = CompletableFuture.failedFuture(ex);
			}
			read.whenComplete((entries, failure) -> {
				this.completed.add(new CompletedRead(chunk, entries, failure));
				LockSupport.unpark(this.thread);
			});
		}
	}

	/**
	 * One multi-key XREAD over the chunk (standalone, sentinel); on a cluster one per hash slot, sent as one batch
	 * (one round trip per node).
	 */
	private CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>> read(List<EntryRun> chunk) {
		int count = this.settings.entryBatchSize();
		if (!this.cluster) {
			return readAsync(null, chunk, count).toCompletableFuture();
		}
		Map<Integer, List<EntryRun>> bySlot = new HashMap<>();
		for (EntryRun stream : chunk) {
			bySlot.computeIfAbsent(slot(stream.run.lease.name()), (slot) -> new ArrayList<>()).add(stream);
		}
		RBatch batch = this.redisson.createBatch(BatchOptions.defaults());
		List<CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>>> reads = new ArrayList<>();
		for (List<EntryRun> group : bySlot.values()) {
			reads.add(readAsync(batch, group, count).toCompletableFuture());
		}
		return batch.executeAsync().toCompletableFuture().thenApply((ignored) -> {
			Map<String, Map<StreamMessageId, Map<String, String>>> all = new HashMap<>();
			for (CompletableFuture<Map<String, Map<StreamMessageId, Map<String, String>>>> one : reads) {
				Map<String, Map<StreamMessageId, Map<String, String>>> entries = one.join();
				if (entries != null) {
					all.putAll(entries);
				}
			}
			return all;
		});
	}

	private RFuture<Map<String, Map<StreamMessageId, Map<String, String>>>> readAsync(RBatch batch, List<EntryRun> streams,
			int count) {
		String first = streams.get(0).run.lease.name();
		Map<String, StreamMessageId> others = new LinkedHashMap<>();
		for (int i = 1; i < streams.size(); i++) {
			others.put(streams.get(i).run.lease.name(), messageId(streams.get(i).position));
		}
		StreamMultiReadArgs args = StreamMultiReadArgs.greaterThan(messageId(streams.get(0).position), others).count(count);
		return (batch != null) ? batch.<String, String>getStream(first, StringCodec.INSTANCE).readAsync(args)
				: this.redisson.<String, String>getStream(first, StringCodec.INSTANCE).readAsync(args);
	}

	private void handleCompletedReads() {
		CompletedRead read;
		while ((read = this.completed.poll()) != null) {
			this.readsInFlight.decrementAndGet();
			for (EntryRun stream : read.streams) {
				if (read.failure != null) {
					release(stream);
					stream.backOff(this.settings);
					schedule(stream, stream.idleDelayNanos);
					continue;
				}
				Map<StreamMessageId, Map<String, String>> entries = (read.entries != null)
						? read.entries.get(stream.run.lease.name()) : null;
				handleRead(stream, entries);
			}
			if (read.failure != null) {
				logger.debug("Reading {} data streams failed; trying again", read.streams.size(), read.failure);
			}
		}
	}

	private void handleRead(EntryRun stream, Map<StreamMessageId, Map<String, String>> entries) {
		if (stream.yielding && valid(stream) && this.polling) {
			release(stream);
			startYield(stream);
			return;
		}
		if (!valid(stream) || !this.polling) {
			// cancelled, finished or stopping: what was read is left to the stream's next owner
			release(stream);
			return;
		}
		if (entries == null || entries.isEmpty()) {
			if (stream.completedBefore) {
				// announced again after it was completed, and nothing was added since: finish this run at once
				submit(stream, () -> complete(stream));
			}
			else if (stream.wanted) {
				release(stream);
				markDue(stream, true);
			}
			else if (stream.dirty()) {
				// caught up: checkpoint now; the batch's end wakes the stream, which then goes idle
				submit(stream, () -> checkpointCaughtUp(stream));
			}
			else {
				release(stream);
				scheduleIdle(stream);
			}
			return;
		}
		String name = stream.run.lease.name();
		List<StreamEntry> batch = new ArrayList<>(entries.size());
		entries.forEach((id, fields) -> batch.add(new StreamEntry(name, id.toString(), fields)));
		stream.completedBefore = false;
		stream.idleDelayNanos = 0;
		submit(stream, () -> process(stream, batch));
	}

	private void release(EntryRun stream) {
		stream.busy = false;
		this.busyStreams.decrementAndGet();
	}

	private void scheduleIdle(EntryRun stream) {
		long delay;
		if (this.notificationsActive && stream.dirty()) {
			// a caught-up checkpoint was put off (every permit taken): its read, in checkpoint-interval, writes it
			delay = this.settings.checkpointInterval().toNanos();
			stream.idleDelayNanos = 0;
		}
		else if (this.notificationsActive) {
			long safety = this.settings.safetyPollInterval().toNanos();
			// spread over the last fifth of the interval, so that streams acquired together are not read together
			delay = safety - ThreadLocalRandom.current().nextLong(safety / 5 + 1);
			stream.idleDelayNanos = 0;
		}
		else {
			stream.backOff(this.settings);
			delay = stream.idleDelayNanos;
		}
		stream.compact();
		schedule(stream, delay);
	}

	/**
	 * Schedules the stream's next read after about {@code delayNanos}, rounded up to a grid of an eighth of the delay
	 * (10 ms to 1 s), so that streams that go idle at about the same time are read by one command rather than by one
	 * each: at 100,000 streams and a 30 s safety poll that is a few commands a second instead of thousands.
	 */
	private void schedule(EntryRun stream, long delayNanos) {
		long grain = Math.max(MIN_GRAIN_NANOS, Math.min(MAX_GRAIN_NANOS, delayNanos / 8));
		long at = System.nanoTime() + delayNanos;
		at = at - Math.floorMod(at, grain) + grain;
		if (at == 0) {
			at = 1;
		}
		stream.wantedAt = at;
		if (!stream.scheduled) {
			enqueue(stream, at);
		}
		// else it comes up at its queued time and is put back for wantedAt; a queued time later than wantedAt (a
		// stream read before its safety poll) delays the next safety read by at most the poll's jitter
	}

	private void enqueue(EntryRun stream, long at) {
		stream.dueAt = at;
		stream.scheduled = true;
		this.schedule.add(stream);
	}

	// ---- handler threads

	private void submit(EntryRun stream, Runnable work) {
		try {
			stream.run.future = this.handlers.submit(() -> {
				try {
					work.run();
				}
				finally {
					stream.run.future = null;
					release(stream);
					wake(stream);
				}
			});
		}
		catch (RuntimeException ex) {
			release(stream);
		}
	}

	/** Hands a stream asked to yield off once nothing runs for it (reader thread). */
	private void startYield(EntryRun stream) {
		if (stream.busy || stream.finished) {
			return;
		}
		stream.finished = true;
		stream.busy = true;
		this.busyStreams.incrementAndGet();
		submit(stream, () -> {
			HandlerRun run = stream.run;
			if (run.cancelled) {
				return;
			}
			if (stream.dirty()) {
				checkpoint(stream);
			}
			if (stream.dirty()) {
				// the checkpoint failed (Redis): the stream stays held; the grace period hands it off
				logger.warn("Could not checkpoint stream '{}' before yielding it to a peer; it is handed off after the "
						+ "rebalance grace period", run.lease.name());
				return;
			}
			this.runs.yielded(run);
		});
	}

	private void process(EntryRun stream, List<StreamEntry> batch) {
		HandlerRun run = stream.run;
		MapStreamState state = stream.state();
		for (StreamEntry entry : batch) {
			if (run.cancelled || stream.yielding || stream.finished) {
				return;
			}
			long started = System.nanoTime();
			if (!handle(stream, state, entry, started)) {
				stream.finished = true;
				return;
			}
			this.runs.record(run, "success", started);
			stream.position = entry.id();
			stream.uncheckpointed++;
			if (state.isCompleted()) {
				complete(stream);
				return;
			}
			if (stream.uncheckpointed >= this.settings.checkpointEvery()
					|| System.nanoTime() - stream.lastCheckpointNanos >= this.settings.checkpointInterval().toNanos()) {
				checkpoint(stream);
			}
		}
		if (stream.finished) {
			// a checkpoint was refused (SentinelMasters): the stream was handed off
			return;
		}
		if (batch.size() >= this.settings.entryBatchSize() || !this.notificationsActive) {
			// there may be more (or, without notifications, only a read tells): read again at once
			stream.again = true;
		}
		else if (!stream.wanted && stream.dirty()) {
			// the read returned fewer entries than asked for and no entry was added since: caught up
			checkpointCaughtUp(stream);
		}
	}

	/**
	 * Calls the handler for one entry, retrying with back-off; false when the run is over (cancelled or dead-lettered).
	 */
	private boolean handle(EntryRun stream, MapStreamState state, StreamEntry entry, long started) {
		Map<String, String> before = state.snapshot();
		while (true) {
			HandlerTimeouts.Watch watch = this.timeouts.start(stream.run.lease.name(), " at entry " + entry.id());
			HandlerFailedException failure;
			try {
				this.invoker.invokeEntry(stream.run.lease, entry, state);
				if (watch.end()) {
					return true;
				}
				failure = watch.failure(null);
			}
			catch (HandlerFailedException ex) {
				failure = watch.end() ? ex : watch.failure(ex);
			}
			state.restore(before);
			Duration delay = this.runs.failed(stream.run, failure, started);
			if (delay == null) {
				return false;
			}
			try {
				Thread.sleep(delay.toMillis());
			}
			catch (InterruptedException interrupted) {
				Thread.currentThread().interrupt();
				return false;
			}
			started = System.nanoTime();
		}
	}

	private void checkpoint(EntryRun stream) {
		if (stream.run.cancelled || !acquireCheckpointPermit()) {
			return;
		}
		writeCheckpoint(stream);
	}

	/**
	 * The checkpoint of a stream that is caught up, which no entry waits for: written only when a permit is free at
	 * once. When every permit is taken (a burst of entries over many streams, each caught up after one entry, each
	 * wanting its own checkpoint), the handler thread does not wait: the stream stays dirty and is read again after
	 * checkpoint-interval, which writes it, with whatever arrived meanwhile. So a backlog of checkpoints never holds
	 * up the handling of entries, and checkpoints coalesce under pressure.
	 */
	private void checkpointCaughtUp(EntryRun stream) {
		if (stream.run.cancelled || !this.checkpointPermits.tryAcquire()) {
			return;
		}
		writeCheckpoint(stream);
	}

	/**
	 * Writes the checkpoint under a permit already taken, and gives the permit back. Refused while the data client's
	 * writes may be on another master than the checkpoint's ({@link #refusedBySplit}).
	 */
	private void writeCheckpoint(EntryRun stream) {
		try {
			if (refusedBySplit(stream, "checkpointing")) {
				return;
			}
			stream.run.lease.checkpoint(stream.position, stream.checkpointState());
			stream.uncheckpointed = 0;
			stream.lastCheckpointNanos = System.nanoTime();
			// the entries after this checkpoint are checked against the data client's master from now on
			stream.dataMaster = this.masters.dataMaster();
		}
		catch (LeaseLostException ex) {
			stream.run.cancel();
		}
		catch (RuntimeException ex) {
			logger.warn("Could not checkpoint stream '{}' ({}); trying again later", stream.run.lease.name(),
					ex.getMessage());
		}
		finally {
			this.checkpointPermits.release();
		}
	}

	private void complete(EntryRun stream) {
		HandlerRun run = stream.run;
		stream.finished = true;
		if (!acquireCheckpointPermit()) {
			return;
		}
		try {
			if (refusedBySplit(stream, "finishing")) {
				return;
			}
			Map<String, String> state = stream.snapshot();
			state.put(COMPLETED, "true");
			run.lease.checkpoint(stream.position, Map.copyOf(state));
			run.lease.done();
		}
		catch (LeaseLostException ex) {
			logger.debug("Stream '{}' was lost before it could be finished", run.lease.name());
		}
		catch (RuntimeException ex) {
			logger.warn("Could not finish stream '{}' ({}); handing it off, so that it is resumed from its checkpoint "
					+ "(unless the engine retries the finish itself)", run.lease.name(), ex.getMessage());
			this.runs.handOff(run);
		}
		finally {
			this.checkpointPermits.release();
		}
		this.runs.ended(run);
	}

	/**
	 * Whether the data client changed masters since the stream's last checkpoint, or uses another master than the
	 * engine's client (Sentinel mode, {@link SentinelMasters}): the handler's writes since that checkpoint may be on
	 * a server that loses them, so nothing is made final. The run ends and the stream is handed off, without counting
	 * an attempt: it runs again from its last checkpoint (here or on a peer), its entries handled again.
	 */
	private boolean refusedBySplit(EntryRun stream, String what) {
		String split = this.masters.split(stream.dataMaster);
		if (split == null) {
			return false;
		}
		this.masters.logRefused(what, stream.run.lease.name(), split);
		stream.finished = true;
		this.runs.handOff(stream.run);
		this.runs.ended(stream.run);
		return true;
	}

	private boolean acquireCheckpointPermit() {
		try {
			this.checkpointPermits.acquire();
			return true;
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return false;
		}
	}

	static StreamMessageId messageId(String id) {
		if (id == null || id.isEmpty()) {
			return new StreamMessageId(0, 0);
		}
		int dash = id.indexOf('-');
		return (dash < 0) ? new StreamMessageId(Long.parseLong(id), 0)
				: new StreamMessageId(Long.parseLong(id.substring(0, dash)), Long.parseLong(id.substring(dash + 1)));
	}

	/** The Redis Cluster hash slot of a key (its hash tag when it has a non-empty one). */
	static int slot(String key) {
		int open = key.indexOf('{');
		if (open >= 0) {
			int close = key.indexOf('}', open + 1);
			if (close > open + 1) {
				key = key.substring(open + 1, close);
			}
		}
		return CRC16.crc16(key.getBytes(StandardCharsets.UTF_8)) % 16384;
	}

	/** A read that completed: its streams and what came back. */
	private record CompletedRead(List<EntryRun> streams, Map<String, Map<StreamMessageId, Map<String, String>>> entries,
			Throwable failure) {
	}

	/**
	 * One data stream fed to the handler. Kept small: one is held per held stream.
	 */
	private static final class EntryRun {

		static final AtomicIntegerFieldUpdater<EntryRun> QUEUED = AtomicIntegerFieldUpdater.newUpdater(EntryRun.class,
				"queued");

		final HandlerRun run;

		volatile String position;

		/**
		 * The state while it is not being worked on and not yet checkpointed (compact, immutable); null while
		 * {@link #state} is used, and when the lease's last checkpoint holds it.
		 */
		private Map<String, String> resting;

		private MapStreamState state;

		/** A read in flight, or a batch or checkpoint queued or running. */
		volatile boolean busy;

		/** An entry was added (a notification) since the last read was sent. */
		volatile boolean wanted;

		/** Read again at once (just acquired, or the last batch filled the read). */
		volatile boolean again;

		volatile boolean finished;

		/** A rebalance asked to yield the stream. */
		volatile boolean yielding;

		/**
		 * The data client's master when the entries after the last checkpoint began ({@link SentinelMasters}); shared
		 * by the streams that began on it, null when not checked.
		 */
		volatile Object dataMaster;

		volatile boolean completedBefore;

		/** In {@link EntryReader#woken}. */
		volatile int queued;

		/** In {@link EntryReader#urgent} or {@link EntryReader#background} (reader thread only). */
		boolean inDue;

		/** In {@link EntryReader#schedule} (reader thread only). */
		boolean scheduled;

		/** Its position in {@link EntryReader#schedule} while {@link #scheduled} (reader thread only). */
		long dueAt;

		/** When it should be read next; 0 when not waiting for the schedule (reader thread only). */
		long wantedAt;

		int uncheckpointed;

		long idleDelayNanos;

		volatile long lastCheckpointNanos = System.nanoTime();

		EntryRun(HandlerRun run) {
			this.run = run;
			this.position = run.lease.checkpoint().position();
			this.completedBefore = run.lease.checkpoint().state().containsKey(COMPLETED);
		}

		boolean dirty() {
			return this.uncheckpointed > 0;
		}

		/** The state to hand to the handler (created from the resting state on first use). */
		MapStreamState state() {
			if (this.state == null) {
				this.state = new MapStreamState(resting());
				this.resting = null;
			}
			return this.state;
		}

		Map<String, String> snapshot() {
			return (this.state != null) ? this.state.snapshot() : new LinkedHashMap<>(resting());
		}

		/**
		 * The state to checkpoint, as a compact immutable map: the lease keeps the last checkpoint it wrote, for as
		 * long as the stream is held, so what is passed here stays on the heap.
		 */
		Map<String, String> checkpointState() {
			return (this.state != null) ? this.state.asMap() : Map.copyOf(resting());
		}

		private Map<String, String> resting() {
			if (this.resting != null) {
				return this.resting;
			}
			// nothing since the last checkpoint: the lease keeps it (without the completion mark)
			Map<String, String> checkpointed = this.run.lease.checkpoint().state();
			if (checkpointed.containsKey(COMPLETED)) {
				checkpointed = new LinkedHashMap<>(checkpointed);
				checkpointed.remove(COMPLETED);
			}
			return checkpointed;
		}

		/**
		 * While the stream is idle: nothing of its state when the last checkpoint holds it (the lease keeps that),
		 * else a compact immutable copy.
		 */
		void compact() {
			if (this.busy) {
				return;
			}
			if (!dirty()) {
				this.state = null;
				this.resting = null;
			}
			else if (this.state != null) {
				this.resting = Map.copyOf(this.state.snapshot());
				this.state = null;
			}
		}

		void backOff(ContainerSettings settings) {
			long min = settings.pollInterval().toNanos();
			this.idleDelayNanos = (this.idleDelayNanos == 0) ? min
					: Math.min(this.idleDelayNanos * 2, settings.maxPollInterval().toNanos());
		}

	}

}
