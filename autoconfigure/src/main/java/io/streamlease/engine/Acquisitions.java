package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
	 * {@code limit} streams (fair share); malformed entries are dead-lettered. With {@code takeBackOwn}, streams the
	 * server says this session owns but that this engine does not hold (a reply lost on the way) are claimed again
	 * under a new token.
	 * @return how many streams were taken
	 */
	int takeOver(String consumer, Duration minIdle, boolean takeBackOwn, int limit) throws InterruptedException {
		int taken = 0;
		String after = "-";
		while (this.taking.getAsBoolean()) {
			String sessionId = this.session.id();
			int room = Math.min(this.held.room(), limit - taken);
			if (sessionId == null || !this.session.isSafe() || room <= 0) {
				break;
			}
			long sent = System.nanoTime();
			LeaseStore.Takeover takeover = this.store.claimPending(sessionId, consumer, minIdle, after,
					this.settings.lbsRecoveryCount(), Math.min(room, this.settings.lbsRecoveryCount()), takeBackOwn);
			if (takeover.notLive()) {
				break;
			}
			Duration took = Duration.ofNanos(System.nanoTime() - sent);
			for (LeaseStore.Pending pending : takeover.malformed()) {
				this.deadLetters.malformed(LbsEntry.parse(pending.id(), pending.fields(), this.settings.maxEntrySize()));
			}
			List<Lease> added = new ArrayList<>(takeover.taken().size());
			for (LeaseStore.Acquisition acquisition : takeover.taken()) {
				LbsEntry entry = LbsEntry.parse(acquisition.lbsId(), acquisition.fields(), Integer.MAX_VALUE);
				accept(acquisition, entry.info(), added);
				this.metrics.claimAttempt(acquisition.stream(), ClaimResult.Status.CLAIMED, took);
				taken++;
			}
			announce(added);
			if (takeBackOwn) {
				List<LeaseStore.Request> lost = new ArrayList<>();
				for (LeaseStore.Request own : takeover.own()) {
					if (!this.held.holds(own.stream())) {
						lost.add(own);
					}
				}
				if (!lost.isEmpty()) {
					taken += (int) claim(lost, true).stream()
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
