package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the replies of the acquire and takeover scripts into held leases: a new {@link Lease} registered among the
 * {@link HeldStreams} (and announced with an ADDED event), the older lease object of a stream acquired again under a
 * new fencing token disowned, a duplicate submission counted. Runs the claims of lapsed or handed-off streams and
 * the takeovers of a departed consumer's pending entries, and, with auto-claim off, announces them as EXPIRED
 * instead.
 */
final class Acquisitions {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	private final EngineSettings settings;

	private final LeaseStore store;

	private final Session session;

	private final HeldStreams held;

	private final Lease.Owner owner;

	private final DeadLetters deadLetters;

	private final EngineStatus status;

	private final EngineMetrics metrics;

	private final EventChannel events;

	private final BooleanSupplier reading;

	private final BooleanSupplier taking;

	private final ReentrantLock takeoverLock = new ReentrantLock();

	/**
	 * @param reading whether the events are still wanted (an ADDED or EXPIRED event waits for room while it is)
	 * @param taking whether new streams may be taken now (a takeover stops between two chunks when not)
	 */
	Acquisitions(EngineSettings settings, LeaseStore store, Session session, HeldStreams held, Lease.Owner owner,
			DeadLetters deadLetters, EngineStatus status, EngineMetrics metrics, EventChannel events,
			BooleanSupplier reading, BooleanSupplier taking) {
		this.settings = settings;
		this.store = store;
		this.session = session;
		this.held = held;
		this.owner = owner;
		this.deadLetters = deadLetters;
		this.status = status;
		this.metrics = metrics;
		this.events = events;
		this.reading = reading;
		this.taking = taking;
	}

	/**
	 * Registers the outcome of an acquisition: a new lease (added to {@code toAnnounce} when not null), or a counted
	 * duplicate.
	 * @return the lease when this consumer holds the stream now, else null
	 */
	Lease accept(LeaseStore.Acquisition acquisition, Map<String, Object> info, List<Lease> toAnnounce) {
		switch (acquisition.status()) {
			case ACQUIRED, OWNED -> {
				Lease existing = this.held.get(acquisition.stream());
				if (existing != null && existing.fencingToken() == acquisition.token()) {
					return existing;
				}
				if (existing != null) {
					// taken again under a new token while an older lease object was still held here: end the older run
					this.owner.disown(existing, "the stream was acquired again with fencing token " + acquisition.token());
				}
				Lease lease = new Lease(this.owner, acquisition.stream(), acquisition.lbsId(), info, acquisition.token(),
						acquisition.recovered(), acquisition.checkpoint(), this.session);
				this.held.put(lease);
				this.status.acquired(lease);
				logger.debug("Acquired stream '{}' (fencing token {}, recovered {})", lease.name(), lease.fencingToken(),
						lease.recovered());
				if (toAnnounce != null) {
					toAnnounce.add(lease);
				}
				return lease;
			}
			case DUPLICATE -> {
				this.status.duplicate(acquisition.stream());
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
	 * @return the results, none when the session is not live (none open, or past its safety deadline)
	 */
	List<ClaimResult> claim(List<LeaseStore.Request> requests, boolean emit) throws InterruptedException {
		String sessionId = this.session.id();
		if (sessionId == null || !this.session.isSafe()) {
			return List.of();
		}
		long sent = System.nanoTime();
		LeaseStore.Acquisitions reply = StreamLeaseEngine.await(this.store.acquire(sessionId, requests, true));
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
		announce(added);
		return results;
	}

	/**
	 * Takes over the pending entries of {@code consumer} ("" for every consumer) idle at least {@code minIdle}
	 * whose streams no live session owns, in chunks of up to claim-chunk-size, as far as there is room and at most
	 * {@code limit} streams (fair share); malformed entries are dead-lettered. The next chunk is sent as soon as the
	 * last one is back, before its streams are turned into leases, so that Redis and this thread work side by side.
	 * The entries taken stay pending for their earlier consumer until {@link #adopt} moves them here. Streams the
	 * server says this session owns but that this engine does not hold (a reply lost on the way) are claimed again
	 * under a new token: all of them with {@code takeBackOwn}, else those whose entries were not adopted yet.
	 * @return how many streams were taken
	 */
	int takeOver(String consumer, Duration minIdle, boolean takeBackOwn, int limit) throws InterruptedException {
		// one takeover at a time (startup recovery and the claim worker): a stream reported as this session's own and
		// not held is then one whose reply was lost, never one whose chunk another takeover has not turned into a
		// lease yet
		this.takeoverLock.lockInterruptibly();
		try {
			return takeOverChunks(consumer, minIdle, takeBackOwn, limit);
		}
		finally {
			this.takeoverLock.unlock();
		}
	}

	private int takeOverChunks(String consumer, Duration minIdle, boolean takeBackOwn, int limit)
			throws InterruptedException {
		int taken = 0;
		String after = "-";
		Map<String, OwnershipRecord> toAdopt = new LinkedHashMap<>();
		try {
			long sent = System.nanoTime();
			CompletableFuture<LeaseStore.Takeover> next = nextChunk(consumer, minIdle, after, limit, 0, takeBackOwn);
			while (next != null) {
				LeaseStore.Takeover takeover = StreamLeaseEngine.await(next);
				next = null;
				if (takeover.notLive()) {
					break;
				}
				Duration took = Duration.ofNanos(System.nanoTime() - sent);
				if (takeover.examined() > 0 && !takeover.last().equals(after)) {
					after = takeover.last();
					sent = System.nanoTime();
					next = nextChunk(consumer, minIdle, after, limit - taken, takeover.taken().size(), takeBackOwn);
				}
				for (LeaseStore.Pending pending : takeover.malformed()) {
					this.deadLetters.malformed(LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize()));
				}
				List<Lease> added = new ArrayList<>(takeover.taken().size());
				for (LeaseStore.Acquisition acquisition : takeover.taken()) {
					Lease lease = accept(acquisition, LbsEntry.infoOf(acquisition.fields().get(LbsEntry.FIELD)), added);
					if (lease != null) {
						toAdopt.put(lease.name(), lease.record());
					}
					this.metrics.claimAttempt(acquisition.stream(), ClaimResult.Status.CLAIMED, took);
					taken++;
				}
				announce(added);
				taken += takeBackOwn(takeover.own(), toAdopt);
			}
		}
		finally {
			adopt(toAdopt);
		}
		return taken;
	}

	/**
	 * Sends the next takeover chunk, or returns null when no more may be taken now: {@code taking} is false, the
	 * session is not live or not safe, or there is no room ({@code arriving} streams of the last chunk are not
	 * registered as held yet).
	 */
	private CompletableFuture<LeaseStore.Takeover> nextChunk(String consumer, Duration minIdle, String after,
			int limit, int arriving, boolean takeBackOwn) {
		String sessionId = this.session.id();
		int room = Math.min(this.held.room(), limit) - arriving;
		if (!this.taking.getAsBoolean() || sessionId == null || !this.session.isSafe() || room <= 0) {
			return null;
		}
		return this.store.claimPendingAsync(sessionId, consumer, minIdle, after, this.settings.lbsRecoveryCount(),
				Math.min(room, this.settings.lbsRecoveryCount()), takeBackOwn);
	}

	/**
	 * The streams a takeover call reported as owned by this session: those held here are adopted later, those not
	 * held (a reply lost on the way) are claimed again under a new token.
	 * @return how many were claimed again
	 */
	private int takeBackOwn(List<LeaseStore.Request> own, Map<String, OwnershipRecord> toAdopt)
			throws InterruptedException {
		List<LeaseStore.Request> lost = new ArrayList<>();
		for (LeaseStore.Request request : own) {
			Lease lease = this.held.get(request.stream());
			if (lease == null) {
				lost.add(request);
			}
			else if (lease.lbsEntryId().equals(request.lbsId())) {
				toAdopt.put(lease.name(), lease.record());
			}
		}
		if (lost.isEmpty()) {
			return 0;
		}
		logger.info("Claiming again {} streams this consumer's session owns but it does not hold (a reply lost on the way)",
				lost.size());
		return (int) claim(lost, true).stream()
			.filter((result) -> result.status() == ClaimResult.Status.CLAIMED)
			.count();
	}

	/**
	 * Moves the LBS entries of streams taken over to this consumer (adopt.lua), in batches, after the takeover: the
	 * streams are held and announced already, so this is off the takeover's critical path. A batch that fails is
	 * left: the entries stay pending for their earlier consumer, and the next sweep reports them to this consumer
	 * again (claim-pending's {@code own}), which adopts them then.
	 */
	void adopt(Map<String, OwnershipRecord> records) {
		String sessionId = this.session.id();
		if (records.isEmpty() || sessionId == null) {
			return;
		}
		Map<String, OwnershipRecord> batch = new LinkedHashMap<>();
		try {
			for (Map.Entry<String, OwnershipRecord> record : records.entrySet()) {
				batch.put(record.getKey(), record.getValue());
				if (batch.size() == LeaseStore.ADOPT_BATCH) {
					if (this.store.adopt(sessionId, batch) < 0) {
						return;
					}
					batch.clear();
				}
			}
			if (!batch.isEmpty()) {
				this.store.adopt(sessionId, batch);
			}
		}
		catch (RuntimeException ex) {
			logger.debug("Could not move {} taken-over entries to this consumer yet ({}); a later sweep reports them again",
					records.size(), ex.toString());
		}
	}

	/**
	 * Auto-claim off: delivers EXPIRED for the streams pending for a consumer whose session lapsed or ended, so that
	 * the application claims them.
	 */
	void announceExpired(String consumer) throws InterruptedException {
		for (LeaseStore.Pending pending : this.store.pendingOf(consumer, this.settings.lbsRecoveryCount())) {
			if (pending.fields().isEmpty()) {
				continue;
			}
			LbsEntry entry = LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize());
			if (entry.valid() && !this.held.holds(entry.stream())) {
				emit(StreamEvent.expired(entry.stream()));
			}
		}
	}

	/**
	 * Hands ADDED events to the application for streams already registered as held (in order), waiting for room.
	 */
	void announce(List<Lease> leases) throws InterruptedException {
		for (Lease lease : leases) {
			emit(StreamEvent.added(lease));
		}
	}

	/**
	 * Puts an ADDED or EXPIRED event, waiting for room while the events are wanted.
	 */
	void emit(StreamEvent event) throws InterruptedException {
		this.events.put(event, this.reading);
	}

}
