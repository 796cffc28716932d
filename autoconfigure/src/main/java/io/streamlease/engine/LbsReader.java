package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

import org.redisson.api.stream.StreamMessageId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The LBS reader: startup recovery first, then XREADGROUP in batches with a short block time (so that close
 * stops it in well under a second), lease acquisition for the whole batch in one script call, ADDED events, and
 * dead letters for malformed entries. Stops reading while this consumer holds max-concurrent-streams streams,
 * or while the application does not take its events, so that peers get the new work. Rides out Redis faults with
 * jittered exponential back-off, without limit unless retry.max-retries says otherwise, and creates the group again
 * when it is gone (NOGROUP after a restart without persistence).
 */
final class LbsReader implements Runnable {

	private static final Logger logger = LoggerFactory.getLogger(LbsReader.class);

	static final Duration BLOCK = Duration.ofMillis(400);

	private final EngineSettings settings;

	private final LeaseStore store;

	private final Session session;

	private final HeldStreams held;

	private final EngineRuntime runtime;

	private final Acquisitions acquisitions;

	private final DeadLetters deadLetters;

	private final EngineMetrics metrics;

	private final RedisReachability reachability;

	private final RedisFailures failures;

	private final Runnable checkKeyspace;

	private final BiConsumer<String, Throwable> terminate;

	/** Entries read but not yet acquired because the acquire call failed: retried before reading more. */
	private List<LbsEntry> unacquired = List.of();

	/** Malformed entries read but not yet dead-lettered because the call failed: retried before reading more. */
	private List<LbsEntry> undeadLettered = new ArrayList<>();

	/**
	 * @param checkKeyspace checks the keyspace notification settings again (after the group was created again)
	 * @param terminate ends the engine with the reason and the cause (the reader gave up)
	 */
	LbsReader(EngineSettings settings, LeaseStore store, Session session, HeldStreams held, EngineRuntime runtime,
			Acquisitions acquisitions, DeadLetters deadLetters, EngineMetrics metrics, RedisReachability reachability,
			RedisFailures failures, Runnable checkKeyspace, BiConsumer<String, Throwable> terminate) {
		this.settings = settings;
		this.store = store;
		this.session = session;
		this.held = held;
		this.runtime = runtime;
		this.acquisitions = acquisitions;
		this.deadLetters = deadLetters;
		this.metrics = metrics;
		this.reachability = reachability;
		this.failures = failures;
		this.checkKeyspace = checkKeyspace;
		this.terminate = terminate;
	}

	@Override
	public void run() {
		recoverAtStartup();
		int failures = 0;
		while (this.runtime.isReading()) {
			try {
				finishRead();
				if (!this.runtime.passIntake(BLOCK)) {
					// paused: reads nothing new (what was read before is acquired and announced above)
					continue;
				}
				int room = this.held.room();
				if (room <= 0) {
					this.held.awaitRoom(BLOCK, this.runtime::isRunning);
					continue;
				}
				Map<StreamMessageId, Map<String, String>> read = this.store.read(Math.min(room, this.settings.readBatchSize()), BLOCK);
				if (failures > 0) {
					failures = 0;
					if (!read.isEmpty()) {
						// an empty answer proves nothing: Redisson completes a blocking read that timed out with no
						// entries, as if Redis had answered (if Redis runs it later, its entries are pending for this
						// consumer without the reader knowing: the sweep takes such strays back)
						this.reachability.succeeded();
					}
				}
				if (!read.isEmpty()) {
					// remember the whole batch before any further call to Redis: the entries are now pending for this
					// consumer, and a failure below must not make the reader forget any of them
					List<LbsEntry> valid = new ArrayList<>(read.size());
					List<LbsEntry> malformed = new ArrayList<>();
					read.forEach((id, fields) -> {
						LbsEntry entry = LbsEntry.parse(id.toString(), fields, this.settings.maxEntrySize());
						(entry.valid() ? valid : malformed).add(entry);
					});
					this.unacquired = valid;
					this.undeadLettered = new ArrayList<>(malformed);
					finishRead();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (RuntimeException ex) {
				if (!this.runtime.isReading()) {
					return;
				}
				if (RedisFault.of(ex) == RedisFault.MISSING_GROUP) {
					logger.warn("The group '{}' of LBS '{}' is gone (was Redis restarted without persistence?): creating it again",
							this.store.keys().group(), this.store.keys().lbs());
					try {
						this.store.createGroup();
						this.checkKeyspace.run();
						continue;
					}
					catch (RuntimeException again) {
						ex = again;
					}
				}
				failures++;
				if (this.settings.retry().exhausted(failures)) {
					// only when retry.max-retries was set: by default the reader never gives up
					this.terminate.accept("the LBS reader gave up after " + (failures - 1) + " retries (retry.max-retries): "
							+ ex.getMessage(), ex);
					return;
				}
				Duration delay = this.settings.retry().delay(failures);
				if (!this.failures.failed("reading the LBS (attempt " + failures + ", next in " + delay.toMillis() + " ms)",
						ex)) {
					return;
				}
				this.runtime.backOff(delay, this.reachability::isReachable);
			}
		}
	}

	/**
	 * Dead-letters and acquires what the last read left over; each list is cleared only as its calls succeed.
	 */
	private void finishRead() throws InterruptedException {
		while (!this.undeadLettered.isEmpty()) {
			this.deadLetters.malformed(this.undeadLettered.get(0));
			this.undeadLettered.remove(0);
		}
		if (!this.unacquired.isEmpty()) {
			acquire(this.unacquired);
			this.unacquired = List.of();
		}
	}

	private void acquire(List<LbsEntry> entries) throws InterruptedException {
		if (entries.isEmpty()) {
			return;
		}
		String sessionId = this.session.id();
		if (sessionId == null || !this.session.isSafe()) {
			// no session, or one whose registration was answered late and is not yet renewed: acquiring now would
			// hand out streams that the application must refuse (not owned); the batch waits for a safe session
			throw new RedisCallException("no safe session (registering or renewing again)", null);
		}
		List<LeaseStore.Request> requests = new ArrayList<>(entries.size());
		for (LbsEntry entry : entries) {
			requests.add(new LeaseStore.Request(entry.stream(), entry.id()));
		}
		LeaseStore.Acquisitions reply = StreamLeaseEngine.await(this.store.acquire(sessionId, requests, false));
		if (reply.notLive()) {
			// the session lapsed meanwhile: keep the batch, it is acquired under the next session
			throw new RedisCallException("the session lapsed before the acquisition", null);
		}
		List<LeaseStore.Acquisition> acquisitions = reply.acquisitions();
		// every stream of the batch is registered as held before any event is handed to the application (which may
		// block while the application is slow to take them), so that no acquired stream looks like a stray meanwhile
		List<Lease> acquired = new ArrayList<>(acquisitions.size());
		for (int i = 0; i < acquisitions.size(); i++) {
			this.acquisitions.accept(acquisitions.get(i), entries.get(i).info(), acquired);
		}
		this.acquisitions.announce(acquired);
	}

	/**
	 * Takes back this consumer id's own pending entries (left by an earlier process with the same id), then every
	 * entry idle longer than lbs-idle-time, in chunks. Only streams no live session owns are taken.
	 */
	private void recoverAtStartup() {
		long started = System.nanoTime();
		int taken = 0;
		boolean success = true;
		try {
			taken += this.acquisitions.takeOver(this.settings.consumerId(), Duration.ZERO, false, Integer.MAX_VALUE);
			taken += this.acquisitions.takeOver("", this.settings.lbsIdleTime(), false, Integer.MAX_VALUE);
		}
		catch (RuntimeException ex) {
			success = false;
			logger.warn("Startup recovery of service '{}' failed ({}); the sweep will find the orphans instead",
					this.settings.serviceName(), ex.getMessage());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return;
		}
		Duration took = Duration.ofNanos(System.nanoTime() - started);
		this.metrics.startupRecovery(success, taken, taken, took);
		if (taken > 0) {
			logger.info("Startup recovery of service '{}' took over {} streams in {} ms", this.settings.serviceName(),
					taken, took.toMillis());
		}
	}

}
