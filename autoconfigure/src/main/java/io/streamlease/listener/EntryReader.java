package io.streamlease.listener;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeaseLostException;
import io.streamlease.StreamEntry;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.redisson.api.RStream;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamMessageId;
import org.redisson.api.stream.StreamReadArgs;
import org.redisson.client.codec.StringCodec;

import io.streamlease.listener.StreamLeaseContainer.HandlerRun;

/**
 * Feeds an entry-level handler: one thread polls every held data stream (non-blocking XREAD from each stream's
 * position, all sent at once, so a poll round costs one round trip per node whatever the number of streams; no
 * thread or connection per stream), and hands each stream's new entries to the handler executor as one batch,
 * so entries of one stream are handled in order and streams in parallel. A stream that had nothing new is polled
 * again after a delay that doubles up to max-poll-interval. The position and the state are checkpointed under the
 * fencing token every checkpoint-every entries, at least every checkpoint-interval, and when the stream is caught
 * up.
 */
final class EntryReader {

	private static final Log logger = LogFactory.getLog(EntryReader.class);

	/**
	 * A checkpoint state key (hidden from handlers) that marks a stream whose handler completed it: if the stream
	 * is announced again, the new run finishes at once unless entries were added after the completion.
	 */
	static final String COMPLETED = "stream-lease.completed";

	private final StreamLeaseContainer container;

	private final RedissonClient redisson;

	private final ContainerSettings settings;

	private final Map<String, EntryRun> streams = new ConcurrentHashMap<>();

	private volatile boolean polling = true;

	private volatile boolean stopped;

	private Thread thread;

	EntryReader(StreamLeaseContainer container, RedissonClient redisson, ContainerSettings settings) {
		this.container = container;
		this.redisson = redisson;
		this.settings = settings;
	}

	void start(ThreadFactory threads) {
		this.thread = threads.newThread(this::loop);
		this.thread.start();
	}

	void add(HandlerRun run) {
		this.streams.put(run.lease.name(), new EntryRun(run, this.redisson.getStream(run.lease.name(), StringCodec.INSTANCE)));
		wake();
	}

	/** Stops reading new entries; batches in progress go on. */
	void stopPolling() {
		this.polling = false;
	}

	/** Whether no batch is in progress. */
	boolean idle() {
		return this.streams.values().stream().noneMatch((stream) -> stream.busy);
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

	private void wake() {
		Thread reader = this.thread;
		if (reader != null) {
			LockSupport.unpark(reader);
		}
	}

	private void loop() {
		while (!this.stopped) {
			try {
				long waitNanos = this.settings.maxPollInterval().toNanos();
				if (this.polling) {
					waitNanos = Math.min(waitNanos, pollDueStreams());
				}
				LockSupport.parkNanos(this, Math.max(waitNanos, TimeUnit.MILLISECONDS.toNanos(1)));
			}
			catch (RuntimeException ex) {
				logger.warn("Reading data streams failed (" + ex.getMessage() + "); trying again");
				LockSupport.parkNanos(this, this.settings.pollInterval().toNanos());
			}
		}
	}

	/**
	 * Polls every stream that is due; returns how long until the next one is due.
	 */
	private long pollDueStreams() {
		long now = System.nanoTime();
		long next = this.settings.maxPollInterval().toNanos();
		Map<EntryRun, CompletableFuture<Map<StreamMessageId, Map<String, String>>>> reads = new LinkedHashMap<>();
		for (EntryRun stream : this.streams.values()) {
			if (stream.run.cancelled || stream.finished) {
				this.streams.remove(stream.run.lease.name(), stream);
				continue;
			}
			if (stream.busy) {
				continue;
			}
			long due = stream.nextPollNanos - now;
			if (due > 0) {
				next = Math.min(next, due);
				continue;
			}
			reads.put(stream, stream.data.readAsync(StreamReadArgs.greaterThan(messageId(stream.position))
				.count(this.settings.entryBatchSize())).toCompletableFuture());
		}
		for (Map.Entry<EntryRun, CompletableFuture<Map<StreamMessageId, Map<String, String>>>> read : reads.entrySet()) {
			EntryRun stream = read.getKey();
			Map<StreamMessageId, Map<String, String>> entries;
			try {
				entries = read.getValue().get(10, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return 0;
			}
			catch (Exception ex) {
				logger.debug("Reading data stream '" + stream.run.lease.name() + "' failed", ex);
				stream.idle(this.settings);
				next = Math.min(next, stream.nextPollNanos - System.nanoTime());
				continue;
			}
			if (entries == null || entries.isEmpty()) {
				if (stream.completedBefore) {
					// announced again after it was completed, and nothing was added since: finish this run at once
					stream.busy = true;
					submit(stream, () -> complete(stream));
					continue;
				}
				if (stream.dirty()) {
					stream.busy = true;
					submit(stream, () -> checkpoint(stream));
				}
				stream.idle(this.settings);
				next = Math.min(next, stream.nextPollNanos - System.nanoTime());
			}
			else {
				List<StreamEntry> batch = new ArrayList<>(entries.size());
				entries.forEach((id, fields) -> batch.add(new StreamEntry(stream.run.lease.name(), id.toString(), fields)));
				stream.busy = true;
				stream.completedBefore = false;
				stream.active();
				submit(stream, () -> process(stream, batch));
				next = 0;
			}
		}
		return next;
	}

	private void submit(EntryRun stream, Runnable work) {
		try {
			stream.run.future = this.container.handlers().submit(() -> {
				try {
					work.run();
				}
				finally {
					stream.busy = false;
					wake();
				}
			});
		}
		catch (RuntimeException ex) {
			stream.busy = false;
		}
	}

	private void process(EntryRun stream, List<StreamEntry> batch) {
		HandlerRun run = stream.run;
		for (StreamEntry entry : batch) {
			if (run.cancelled) {
				return;
			}
			long started = System.nanoTime();
			if (!handle(stream, entry, started)) {
				stream.finished = true;
				return;
			}
			this.container.record(run, "success", started);
			stream.position = entry.id();
			stream.uncheckpointed++;
			if (stream.state.isCompleted()) {
				complete(stream);
				return;
			}
			if (stream.uncheckpointed >= this.settings.checkpointEvery()
					|| System.nanoTime() - stream.lastCheckpointNanos >= this.settings.checkpointInterval().toNanos()) {
				checkpoint(stream);
			}
		}
	}

	/**
	 * Calls the handler for one entry, retrying with back-off; false when the run is over (cancelled or dead-lettered).
	 */
	private boolean handle(EntryRun stream, StreamEntry entry, long started) {
		Map<String, String> before = stream.state.snapshot();
		while (true) {
			try {
				this.container.invoker().invokeEntry(stream.run.lease, entry, stream.state);
				return true;
			}
			catch (HandlerFailedException ex) {
				stream.state.restore(before);
				Duration delay = this.container.retryDelay(stream.run, ex, started);
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
	}

	private void checkpoint(EntryRun stream) {
		if (stream.run.cancelled) {
			return;
		}
		try {
			stream.run.lease.checkpoint(stream.position, stream.state.snapshot());
			stream.uncheckpointed = 0;
			stream.lastCheckpointNanos = System.nanoTime();
		}
		catch (LeaseLostException ex) {
			stream.run.cancel();
		}
		catch (RuntimeException ex) {
			logger.warn("Could not checkpoint stream '" + stream.run.lease.name() + "' (" + ex.getMessage()
					+ "); trying again later");
		}
	}

	private void complete(EntryRun stream) {
		HandlerRun run = stream.run;
		try {
			Map<String, String> state = stream.state.snapshot();
			state.put(COMPLETED, "true");
			run.lease.checkpoint(stream.position, state);
			run.lease.done();
		}
		catch (LeaseLostException ex) {
			logger.debug("Stream '" + run.lease.name() + "' was lost before it could be finished");
		}
		catch (RuntimeException ex) {
			logger.warn("Could not finish stream '" + run.lease.name() + "' (" + ex.getMessage() + "); its lease will "
					+ "lapse and a peer will resume it from its checkpoint");
		}
		stream.finished = true;
		this.container.runs().remove(run.lease.name(), run);
	}

	private static StreamMessageId messageId(String id) {
		if (id == null || id.isEmpty()) {
			return new StreamMessageId(0, 0);
		}
		int dash = id.indexOf('-');
		return (dash < 0) ? new StreamMessageId(Long.parseLong(id), 0)
				: new StreamMessageId(Long.parseLong(id.substring(0, dash)), Long.parseLong(id.substring(dash + 1)));
	}

	/**
	 * One data stream fed to the handler.
	 */
	private static final class EntryRun {

		final HandlerRun run;

		final RStream<String, String> data;

		final MapStreamState state;

		volatile String position;

		volatile boolean busy;

		volatile boolean finished;

		volatile long nextPollNanos = System.nanoTime();

		volatile long lastCheckpointNanos = System.nanoTime();

		int uncheckpointed;

		private long idleDelayNanos;

		volatile boolean completedBefore;

		EntryRun(HandlerRun run, RStream<String, String> data) {
			this.run = run;
			this.data = data;
			this.position = run.lease.checkpoint().position();
			Map<String, String> state = new LinkedHashMap<>(run.lease.checkpoint().state());
			this.completedBefore = state.remove(COMPLETED) != null;
			this.state = new MapStreamState(state);
		}

		boolean dirty() {
			return this.uncheckpointed > 0;
		}

		void idle(ContainerSettings settings) {
			long min = settings.pollInterval().toNanos();
			this.idleDelayNanos = (this.idleDelayNanos == 0) ? min
					: Math.min(this.idleDelayNanos * 2, settings.maxPollInterval().toNanos());
			this.nextPollNanos = System.nanoTime() + this.idleDelayNanos;
		}

		void active() {
			this.idleDelayNanos = 0;
			this.nextPollNanos = System.nanoTime();
		}

	}

}
