package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fair share: moves held streams from consumers above their share to consumers below it, cooperatively.
 * <p>
 * Every renewal publishes this consumer's capacity (max-concurrent-streams) and held count and returns those of
 * every live consumer with the service's total of streams ({@code renew.lua}, the same call). A consumer counts
 * for the share once it has been live for the settle time (by default two renewals, hb-interval), measured from
 * its session's first renewal on the server clock, so that every consumer counts the same peers. This consumer's
 * share is {@code total x capacity / sum of the capacities counted}.
 * <p>
 * A round runs after a renewal, at most every rebalance interval after a round that moved streams, and only when
 * no stream of the previous round is still yielding. When this consumer holds more than its share x (1 +
 * tolerance), it moves {@code held - ceil(share)} streams, at most max-fraction-per-round of what it holds and at
 * most max-moves-per-round, and never more than the counted peers lack to reach their own share (so a consumer at
 * its share never receives: no ping-pong). The streams (the most recently acquired first) are divided among those
 * peers by what each lacks; each is asked to yield ({@link Lease#requestYield}: {@code released()} completes with
 * REBALANCE while the lease stays held), and once its handler let go ({@code handOff}), or the grace period passed,
 * it is released with {@code handoff.lua} in streams mode, in batches, naming the peer meant to claim it. That
 * peer claims it at once if it is still below its share; the others leave it (the sweep finds it in
 * {@code released} if the named peer does not take it).
 */
final class Rebalancer {

	private static final Logger logger = LoggerFactory.getLogger(Rebalancer.class);

	/** Streams released by one handoff call at most. */
	static final int HANDOFF_BATCH = 500;

	/** How long the handoffs of one round are collected before they are sent as batches. */
	private static final long FLUSH_DELAY_MILLIS = 5;

	/**
	 * A round runs only while the service's total stayed within this fraction over the last 2 x hb-interval: while
	 * streams end (or arrive) fast the shares move under the consumers' feet, and streams about to finish would be
	 * moved for nothing (a drain of 2,000 sessions moved 583 in the chaos run with no such rule, 316 when only the
	 * change since the previous renewal was checked).
	 */
	static final double STEADY = 0.1;

	/** The service's totals of the renewals of the last 2 x hb-interval: {nanoTime, total} (renewal thread only). */
	private final java.util.ArrayDeque<long[]> totals = new java.util.ArrayDeque<>();

	/** A peer's report younger than the last round plus this may not include what that round sent it yet. */
	private static final long REPORT_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

	/** What the rebalancer needs of the engine. */
	interface Host {

		/** Whether the engine takes streams now (running, reading). */
		boolean isReading();

		/** The held leases (a live view). */
		Iterable<Lease> leases();

		/** How many streams are held. */
		int heldCount();

		/** Ends a lease asked to yield and hands it off (the grace period passed). */
		void handOff(Lease lease);

		/** Streams were moved off by rebalance (the handoff succeeded on the server). */
		void movedOff(int count);

		/** Reports a failed call; false when the engine terminates. */
		boolean redisFailed(String what, Throwable failure);

	}

	/**
	 * What the last renewal said about fair share.
	 * @param total the service's streams (owned or released)
	 * @param share this consumer's share
	 * @param counted the consumers counted (this one included), with their loads
	 * @param capacities the sum of the capacities counted
	 * @param settled whether this consumer is counted by its peers (live for the settle time)
	 * @param ages how old each counted peer's report was, in ms
	 * @param atNanos when the renewal was answered
	 */
	record View(long total, double share, Map<String, LeaseStore.ConsumerLoad> counted, long capacities,
			boolean settled, Map<String, Long> ages, long atNanos) {
	}

	private final Host host;

	private final EngineSettings settings;

	private final RebalanceSettings rebalance;

	private final LeaseStore store;

	private final Session session;

	private final ScheduledExecutorService scheduler;

	private final ConcurrentLinkedQueue<Lease> outgoing = new ConcurrentLinkedQueue<>();

	private final AtomicBoolean flushScheduled = new AtomicBoolean();

	private final LongAdder movedOff = new LongAdder();

	/** When this consumer last released streams for a rebalance (nanoTime), 0 if never. */
	private volatile long lastHandoffNanos;

	private volatile View view;

	private long lastMoveNanos;

	private boolean moved;

	/** What the last round sent to each peer (subtracted from a peer's deficit until its report includes it). */
	private Map<String, Integer> sentLastRound = Map.of();

	Rebalancer(Host host, EngineSettings settings, LeaseStore store, Session session,
			ScheduledExecutorService scheduler) {
		this.host = host;
		this.settings = settings;
		this.rebalance = settings.rebalance();
		this.store = store;
		this.session = session;
		this.scheduler = scheduler;
	}

	/** The last view, or null before the first renewal that returned loads. */
	View view() {
		return this.view;
	}

	/** This consumer's share after the last renewal, or NaN before it. */
	double share() {
		View current = this.view;
		return (current != null) ? current.share() : Double.NaN;
	}

	/** The share, the total and the consumers counted at the last renewal, and the streams moved off so far. */
	FairShare fairShare() {
		View current = this.view;
		return (current != null)
				? new FairShare(this.rebalance.enabled(), current.share(), current.total(), current.counted().size(),
						this.movedOff.sum())
				: new FairShare(this.rebalance.enabled(), Double.NaN, 0, 0, this.movedOff.sum());
	}

	/**
	 * Whether this consumer may claim a stream handed off by a rebalance: rebalancing off, no view yet, or it holds
	 * fewer streams than {@code ceil(share)}.
	 */
	boolean belowShare() {
		View current = this.view;
		if (!this.rebalance.enabled() || current == null) {
			return true;
		}
		return this.host.heldCount() < Math.ceil(current.share());
	}

	/** Whether a counted peer held fewer streams than {@code ceil(its share)} at the last renewal. */
	boolean peersBelowShare() {
		View current = this.view;
		if (!this.rebalance.enabled() || current == null) {
			return false;
		}
		for (Map.Entry<String, LeaseStore.ConsumerLoad> peer : current.counted().entrySet()) {
			if (!peer.getKey().equals(this.settings.consumerId())
					&& peer.getValue().held() < Math.ceil(current.total() * (double) peer.getValue().capacity()
							/ current.capacities())) {
				return true;
			}
		}
		return false;
	}

	/**
	 * How many more streams a rebalance may hand this consumer now: what it lacks to {@code ceil(share)}
	 * ({@link Integer#MAX_VALUE} with rebalancing off or before the first view).
	 */
	int shareRoom() {
		return shareRoom(null);
	}

	/**
	 * What this consumer lacks to its share once {@code departed} (a consumer whose session lapsed or was handed off,
	 * or null) no longer counts: the part of a departed consumer's streams this consumer takes over at first, so that
	 * the survivors end up at their shares without moves among them.
	 */
	int shareRoom(String departed) {
		View current = this.view;
		if (!this.rebalance.enabled() || current == null) {
			return Integer.MAX_VALUE;
		}
		double share = current.share();
		LeaseStore.ConsumerLoad gone = (departed != null) ? current.counted().get(departed) : null;
		if (gone != null && !departed.equals(this.settings.consumerId())) {
			long capacities = current.capacities() - gone.capacity();
			share = (capacities > 0) ? current.total() * (double) this.settings.maxConcurrentStreams() / capacities
					: current.total();
		}
		return (int) Math.max(0, Math.min(Integer.MAX_VALUE, Math.ceil(share) - this.host.heldCount()));
	}

	/** A renewal was answered: updates the view, and runs a round when one is due. */
	void renewed(LeaseStore.Renewal renewal) {
		long now = System.nanoTime();
		View current = view(renewal, now);
		if (current == null) {
			return;
		}
		this.view = current;
		boolean steady = steady(current.total(), now);
		if (!this.rebalance.enabled() || !this.host.isReading() || !steady) {
			return;
		}
		// a tenth of slack: rounds run on renewal replies, which come every hb-interval / 2 give or take a little
		long interval = this.settings.rebalanceInterval().toNanos();
		if (this.moved && now - this.lastMoveNanos < interval - interval / 10) {
			return;
		}
		round(current, now);
	}

	/**
	 * Records the total and tells whether it stayed within {@link #STEADY} over the last 2 x hb-interval (false for
	 * the first renewal: there is nothing to compare with).
	 */
	private boolean steady(long total, long now) {
		long window = this.settings.hbInterval().multipliedBy(2).toNanos();
		while (!this.totals.isEmpty() && now - this.totals.peekFirst()[0] > window) {
			this.totals.pollFirst();
		}
		boolean compared = !this.totals.isEmpty();
		this.totals.addLast(new long[] { now, total });
		long min = Long.MAX_VALUE;
		long max = Long.MIN_VALUE;
		for (long[] seen : this.totals) {
			min = Math.min(min, seen[1]);
			max = Math.max(max, seen[1]);
		}
		return compared && max - min <= STEADY * max;
	}

	private View view(LeaseStore.Renewal renewal, long now) {
		String me = this.settings.consumerId();
		LeaseStore.ConsumerLoad mine = renewal.loads().get(me);
		if (mine == null) {
			return null;
		}
		long settle = this.settings.rebalanceSettleTime().toMillis();
		long ttl = this.settings.hbInterval().toMillis();
		Map<String, LeaseStore.ConsumerLoad> counted = new LinkedHashMap<>();
		Map<String, Long> ages = new LinkedHashMap<>();
		long capacities = 0;
		for (Map.Entry<String, LeaseStore.ConsumerLoad> load : renewal.loads().entrySet()) {
			if (load.getKey().equals(me) || load.getValue().liveForMillis() >= settle) {
				counted.put(load.getKey(), load.getValue());
				capacities += load.getValue().capacity();
				Long left = renewal.live().get(load.getKey());
				ages.put(load.getKey(), (left != null) ? Math.max(0, ttl - left) : ttl);
			}
		}
		long capacity = this.settings.maxConcurrentStreams();
		double share = (capacities > 0) ? renewal.total() * (double) capacity / capacities : renewal.total();
		return new View(renewal.total(), share, counted, capacities, mine.liveForMillis() >= settle, ages, now);
	}

	/** One round: hands off this consumer's excess to the counted peers below their share, a bounded part of it. */
	private void round(View view, long now) {
		if (!view.settled() || view.counted().size() < 2) {
			return;
		}
		List<Lease> movable = new ArrayList<>();
		for (Lease lease : this.host.leases()) {
			if (lease.yielding() && lease.state() == Lease.State.HELD) {
				// the previous round is still in progress: its streams are not counted twice
				return;
			}
			if (lease.state() == Lease.State.HELD && !lease.finishing) {
				movable.add(lease);
			}
		}
		int held = this.host.heldCount();
		long target = (long) Math.ceil(view.share());
		if (held <= view.share() * (1 + this.rebalance.tolerance()) || held - target < 1) {
			return;
		}
		long excess = held - target;
		long limit = Math.min(this.rebalance.maxMovesPerRound(),
				Math.max(1, (long) Math.floor(this.rebalance.maxFractionPerRound() * held)));
		Map<String, Long> deficits = deficits(view);
		long lacking = deficits.values().stream().mapToLong(Long::longValue).sum();
		int moves = (int) Math.min(Math.min(excess, limit), Math.min(lacking, movable.size()));
		if (moves <= 0) {
			return;
		}
		Map<String, Integer> plan = divide(moves, deficits, lacking);
		movable.sort(Comparator.comparingLong(Lease::acquiredNanos).reversed());
		int next = 0;
		Map<String, Integer> sent = new LinkedHashMap<>();
		List<Lease> asked = new ArrayList<>(moves);
		Duration grace = this.rebalance.gracePeriod();
		for (Map.Entry<String, Integer> share : plan.entrySet()) {
			for (int i = 0; i < share.getValue() && next < movable.size(); i++) {
				Lease lease = movable.get(next++);
				if (lease.requestYield(share.getKey())) {
					asked.add(lease);
					sent.merge(share.getKey(), 1, Integer::sum);
					this.scheduler.schedule(() -> this.host.handOff(lease), Math.max(0, grace.toMillis()),
							TimeUnit.MILLISECONDS);
				}
			}
		}
		// released() completes off the engine's scheduler: what handlers chain on it must not delay renewals
		CompletableFuture.runAsync(() -> asked.forEach(Lease::announceYield));
		this.sentLastRound = sent;
		this.lastMoveNanos = now;
		this.moved = true;
		logger.info("Rebalance: consumer '{}' of service '{}' holds {} of {} streams, share {} over {} consumers; "
				+ "moving {} to {}", this.settings.consumerId(), this.settings.serviceName(), held, view.total(),
				String.format("%.1f", view.share()), view.counted().size(), sent.values().stream().mapToInt(Integer::intValue).sum(),
				sent);
	}

	/** What each counted peer lacks to reach {@code ceil(its share)}, less what the last round sent it meanwhile. */
	private Map<String, Long> deficits(View view) {
		String me = this.settings.consumerId();
		Map<String, Long> deficits = new LinkedHashMap<>();
		for (Map.Entry<String, LeaseStore.ConsumerLoad> peer : view.counted().entrySet()) {
			if (peer.getKey().equals(me)) {
				continue;
			}
			LeaseStore.ConsumerLoad load = peer.getValue();
			double share = view.total() * (double) load.capacity() / view.capacities();
			long deficit = (long) Math.ceil(share) - load.held();
			long reportedAt = view.atNanos() - TimeUnit.MILLISECONDS.toNanos(view.ages().getOrDefault(peer.getKey(), 0L));
			if (reportedAt - (this.lastMoveNanos + REPORT_MARGIN_NANOS) < 0) {
				deficit -= this.sentLastRound.getOrDefault(peer.getKey(), 0);
			}
			if (deficit > 0) {
				deficits.put(peer.getKey(), deficit);
			}
		}
		return deficits;
	}

	/** Divides {@code moves} among the peers in proportion to what they lack (largest remainder). */
	static Map<String, Integer> divide(int moves, Map<String, Long> deficits, long lacking) {
		Map<String, Integer> plan = new LinkedHashMap<>();
		Map<String, Double> remainders = new LinkedHashMap<>();
		int given = 0;
		for (Map.Entry<String, Long> peer : deficits.entrySet()) {
			double exact = moves * (double) peer.getValue() / lacking;
			int whole = (int) Math.min(Math.floor(exact), peer.getValue());
			plan.put(peer.getKey(), whole);
			remainders.put(peer.getKey(), exact - whole);
			given += whole;
		}
		List<String> byRemainder = new ArrayList<>(remainders.keySet());
		byRemainder.sort(Comparator.comparingDouble((String peer) -> remainders.get(peer)).reversed());
		for (int i = 0; given < moves && i < byRemainder.size(); i++) {
			String peer = byRemainder.get(i);
			if (plan.get(peer) < deficits.get(peer)) {
				plan.merge(peer, 1, Integer::sum);
				given++;
			}
		}
		plan.values().removeIf((count) -> count == 0);
		return plan;
	}

	/**
	 * Whether this consumer released streams for a rebalance within {@code window}: they stay pending for it until
	 * peers claim them, so the sweep does not take them for strays meanwhile.
	 */
	boolean handedOffWithin(Duration window) {
		long last = this.lastHandoffNanos;
		return last != 0 && System.nanoTime() - last < window.toNanos();
	}

	/** A stream asked to yield was ended locally: release it on the server, batched with the others of its round. */
	void handedOff(Lease lease) {
		this.outgoing.add(lease);
		if (this.flushScheduled.compareAndSet(false, true)) {
			try {
				this.scheduler.schedule(this::flush, FLUSH_DELAY_MILLIS, TimeUnit.MILLISECONDS);
			}
			catch (RuntimeException ex) {
				// the engine stops: its session is handed off whole, and these streams with it
				this.flushScheduled.set(false);
			}
		}
	}

	private void flush() {
		this.flushScheduled.set(false);
		Map<String, List<Lease>> byTarget = new LinkedHashMap<>();
		Lease lease;
		while ((lease = this.outgoing.poll()) != null) {
			byTarget.computeIfAbsent(lease.yieldTarget(), (target) -> new ArrayList<>()).add(lease);
		}
		String sessionId = this.session.id();
		if (sessionId == null) {
			// no session: the streams' records name a session that ended or is ending, claimable by peers already
			return;
		}
		for (Map.Entry<String, List<Lease>> group : byTarget.entrySet()) {
			List<Lease> leases = group.getValue();
			for (int from = 0; from < leases.size(); from += HANDOFF_BATCH) {
				List<Lease> batch = leases.subList(from, Math.min(leases.size(), from + HANDOFF_BATCH));
				List<String> names = new ArrayList<>(batch.size());
				List<OwnershipRecord> records = new ArrayList<>(batch.size());
				for (Lease one : batch) {
					if (sessionId.equals(one.record().sessionId())) {
						names.add(one.name());
						records.add(one.record());
					}
				}
				if (names.isEmpty()) {
					continue;
				}
				try {
					int released = this.store.handoffStreams(sessionId, names, records, group.getKey());
					this.lastHandoffNanos = System.nanoTime();
					this.movedOff.add(released);
					this.host.movedOff(released);
				}
				catch (RuntimeException ex) {
					if (this.host.redisFailed("handing off " + names.size() + " streams to '" + group.getKey()
							+ "' (rebalance)", ex)) {
						this.outgoing.addAll(batch);
						retryFlushLater();
					}
				}
			}
		}
	}

	private void retryFlushLater() {
		if (this.flushScheduled.compareAndSet(false, true)) {
			long delay = Math.max(1, Math.min(this.settings.retry().cappedDelay(1),
					this.settings.hbInterval().toMillis() / 10));
			try {
				this.scheduler.schedule(this::flush, delay, TimeUnit.MILLISECONDS);
			}
			catch (RuntimeException ex) {
				this.flushScheduled.set(false);
			}
		}
	}

}
