package io.streamlease.engine;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns claim candidates (keyspace events, sweep findings, handoff messages) into claims, or into EXPIRED
 * events when auto-claim is off.
 * <p>
 * To avoid a thundering herd, each candidate is ranked among the live consumers by rendezvous hashing of the
 * stream name: the first-ranked consumer claims at once, the next after one {@code claim-stagger}, and so on, so
 * that lapsed streams spread evenly over the survivors and usually only one consumer tries each. A consumer at
 * max-concurrent-streams does not claim at all; the next-ranked one takes over after its delay.
 */
final class ClaimWorker implements Runnable {

	private static final Logger logger = LoggerFactory.getLogger(ClaimWorker.class);

	private static final int MAX_RANK_DELAY = 8;

	private static final int CLAIM_BATCH = 100;

	/** How long the worker parks at a time while the engine is paused, between two clearings of its queues. */
	private static final Duration PAUSED_PARK = Duration.ofMillis(100);

	private final EngineSettings settings;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	private final BlockingQueue<String> keyspaceQueue;

	private final EngineRuntime runtime;

	private final HeldStreams held;

	private final EngineStatus status;

	private final Acquisitions acquisitions;

	private final Rebalancer rebalancer;

	private final RedisFailures failures;

	private final Map<String, Waiting> waiting = new LinkedHashMap<>();

	/** When the takeover of each departed consumer was first tried (fair share: its first passes are limited). */
	private final Map<String, Long> takeovers = new LinkedHashMap<>();

	/** Released by the detectors after they queue candidates, so that the worker wakes at once. */
	private final Semaphore arrivals = new Semaphore(0);

	private record Waiting(ClaimCandidate candidate, long dueNanos) {
	}

	/**
	 * @param brokerInput the candidates of the sweep, the handoff channel and a new session
	 * @param keyspaceQueue the consumers whose session keys expired
	 * @param status gives the live consumers (for the ranking)
	 * @param rebalancer gives this consumer's share (fair share)
	 */
	ClaimWorker(EngineSettings settings, BlockingQueue<List<ClaimCandidate>> brokerInput,
			BlockingQueue<String> keyspaceQueue, EngineRuntime runtime, HeldStreams held, EngineStatus status,
			Acquisitions acquisitions, Rebalancer rebalancer, RedisFailures failures) {
		this.settings = settings;
		this.brokerInput = brokerInput;
		this.keyspaceQueue = keyspaceQueue;
		this.runtime = runtime;
		this.held = held;
		this.status = status;
		this.acquisitions = acquisitions;
		this.rebalancer = rebalancer;
		this.failures = failures;
	}

	@Override
	public void run() {
		while (this.runtime.isReading()) {
			try {
				if (!this.runtime.passIntake(PAUSED_PARK)) {
					// paused: what arrives is left to the peers (they get the same notifications and sweep too)
					dropCandidates();
					continue;
				}
				collect();
				List<ClaimCandidate> due = due();
				if (!due.isEmpty()) {
					if (this.settings.autoClaim()) {
						claim(due);
					}
					else {
						for (ClaimCandidate candidate : due) {
							if (candidate.isConsumer()) {
								this.acquisitions.announceExpired(candidate.consumer());
							}
							else {
								this.acquisitions.emit(StreamEvent.expired(candidate.stream()));
							}
						}
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
			catch (RuntimeException ex) {
				this.failures.failed("claiming lapsed streams", ex);
				pause();
			}
		}
	}

	private void collect() throws InterruptedException {
		long waitNanos = TimeUnit.MILLISECONDS.toNanos(100);
		long now = System.nanoTime();
		for (Waiting entry : this.waiting.values()) {
			waitNanos = Math.min(waitNanos, Math.max(0, entry.dueNanos() - now));
		}
		if (this.brokerInput.isEmpty() && this.keyspaceQueue.isEmpty()) {
			this.arrivals.tryAcquire(Math.max(waitNanos, 1_000_000), TimeUnit.NANOSECONDS);
		}
		this.arrivals.drainPermits();
		List<List<ClaimCandidate>> batches = new ArrayList<>();
		this.brokerInput.drainTo(batches);
		List<ClaimCandidate> found = new ArrayList<>();
		batches.forEach(found::addAll);
		List<String> expired = new ArrayList<>();
		this.keyspaceQueue.drainTo(expired);
		for (String consumer : expired) {
			if (!consumer.equals(this.settings.consumerId())) {
				found.add(ClaimCandidate.ofConsumer(consumer, "keyspace"));
			}
		}
		now = System.nanoTime();
		long stagger = this.settings.claimStagger().toNanos();
		boolean autoClaim = this.settings.autoClaim();
		boolean belowShare = this.rebalancer.belowShare();
		// at or above its share, a consumer leaves a released stream to the peers below theirs: for two hb-intervals
		// while one of them lacks streams (a peer that just joined may take a while to claim what it was handed),
		// else for two sweep intervals
		long aboveShareDelay = this.rebalancer.peersBelowShare() ? 2 * this.settings.hbInterval().toNanos()
				: 2 * this.settings.sweepInterval().toNanos();
		for (ClaimCandidate candidate : found) {
			if (!candidate.isConsumer() && this.held.holds(candidate.stream())) {
				continue;
			}
			if (autoClaim && candidate.target() != null) {
				// handed off by a rebalance to a named peer: that one claims at once (as far as it is below its share),
				// the others leave it; if the peer does not take it, the sweep finds it in released
				if (candidate.target().equals(this.settings.consumerId())) {
					this.waiting.put(candidate.key(), new Waiting(candidate, now));
				}
				continue;
			}
			Waiting existing = this.waiting.get(candidate.key());
			if (existing != null && (candidate.isConsumer() || candidate.lbsId().isEmpty()
					|| !existing.candidate().lbsId().isEmpty())) {
				continue;
			}
			// a lapsed session's streams are taken over by every survivor at once, in chunks of at most its free
			// room, which spreads them over the survivors by capacity; a single stream goes by rank
			long delay = (autoClaim && !candidate.isConsumer()) ? rank(candidate) * stagger : 0;
			if (autoClaim && !candidate.isConsumer() && !belowShare) {
				// no ping-pong: a stream handed off by a consumer above its share must not go back to one
				delay += aboveShareDelay;
			}
			this.waiting.put(candidate.key(), new Waiting(candidate, now + delay));
		}
	}

	private void dropCandidates() {
		this.waiting.clear();
		this.brokerInput.clear();
		this.keyspaceQueue.clear();
		this.arrivals.drainPermits();
	}

	private List<ClaimCandidate> due() {
		long now = System.nanoTime();
		List<ClaimCandidate> due = new ArrayList<>();
		for (Iterator<Waiting> it = this.waiting.values().iterator(); it.hasNext();) {
			Waiting entry = it.next();
			if (entry.dueNanos() - now <= 0) {
				due.add(entry.candidate());
				it.remove();
			}
		}
		return due;
	}

	private void claim(List<ClaimCandidate> due) throws InterruptedException {
		List<LeaseStore.Request> requests = new ArrayList<>();
		int shareRoom = this.rebalancer.shareRoom(null);
		for (ClaimCandidate candidate : due) {
			if (candidate.target() != null && !this.held.holds(candidate.stream())) {
				// handed to this consumer by a rebalance: taken while it lacks streams to its share, else left in
				// released for the consumers below theirs (the sweep finds it)
				if (shareRoom > 0) {
					shareRoom--;
					requests.add(new LeaseStore.Request(candidate.stream(), candidate.lbsId()));
				}
				continue;
			}
			if (candidate.isConsumer()) {
				// this consumer's own entries: after it registered a new session, those of its earlier sessions; from the
				// sweep, entries it does not hold (idle at least hb-interval, so that an acquisition in flight is not one)
				boolean strays = candidate.consumer().equals(this.settings.consumerId()) && !"session".equals(candidate.source());
				int limit = takeoverLimit(candidate.consumer());
				int taken = (limit <= 0) ? 0 : this.acquisitions.takeOver(candidate.consumer(),
						strays ? this.settings.hbInterval() : Duration.ZERO, strays, limit);
				if (taken > 0) {
					logger.info("Took over {} streams of consumer '{}' ({})", taken, candidate.consumer(), candidate.source());
				}
			}
			else if (!this.held.holds(candidate.stream())) {
				requests.add(new LeaseStore.Request(candidate.stream(), candidate.lbsId()));
			}
		}
		int from = 0;
		int claimed = 0;
		while (from < requests.size()) {
			int room = this.held.room();
			if (room <= 0) {
				logger.debug("At max-concurrent-streams: leaving {} lapsed streams to peers", requests.size() - from);
				break;
			}
			int to = Math.min(requests.size(), from + Math.min(CLAIM_BATCH, room));
			for (ClaimResult result : this.acquisitions.claim(requests.subList(from, to), true)) {
				if (result.status() == ClaimResult.Status.CLAIMED) {
					claimed++;
				}
			}
			from = to;
		}
		if (claimed > 0) {
			// the single-stream counterpart of "Took over": a failover or handoff must be visible at INFO
			logger.info("Claimed {} of {} lapsed or handed-off streams", claimed, requests.size());
		}
	}

	/**
	 * How many streams of a departed consumer to take over now. With rebalancing on, a survivor takes at first only
	 * what it lacks to its share (counted without the departed one), so that the survivors end up balanced without
	 * moving streams among them afterwards; what is left (the shares are estimates) is taken as before from two
	 * sweep intervals after the first try. A consumer's own entries are never limited.
	 */
	private int takeoverLimit(String consumer) {
		if (consumer.equals(this.settings.consumerId()) || !this.settings.rebalance().enabled()) {
			return Integer.MAX_VALUE;
		}
		long now = System.nanoTime();
		long window = 2 * this.settings.sweepInterval().toNanos();
		this.takeovers.values().removeIf((first) -> now - first > 10 * window);
		long first = this.takeovers.computeIfAbsent(consumer, (key) -> now);
		return (now - first < window) ? this.rebalancer.shareRoom(consumer) : Integer.MAX_VALUE;
	}

	/**
	 * Wakes the worker: candidates were queued.
	 */
	void wake() {
		this.arrivals.release();
	}

	/**
	 * How many live consumers rank before this one for the candidate (0 = first), capped.
	 */
	int rank(ClaimCandidate candidate) {
		List<String> live = this.status.liveConsumers();
		String me = this.settings.consumerId();
		long mine = score(candidate.stream(), me);
		int rank = 0;
		boolean present = false;
		for (String consumer : live) {
			if (consumer.equals(me)) {
				present = true;
			}
			else if (!consumer.equals(candidate.consumer()) && score(candidate.stream(), consumer) > mine) {
				rank++;
			}
		}
		if (!present) {
			rank = Math.max(rank, live.size());
		}
		return Math.min(rank, MAX_RANK_DELAY);
	}

	static long score(String stream, String consumer) {
		long hash = 0xcbf29ce484222325L;
		for (byte b : (stream + '\n' + consumer).getBytes(StandardCharsets.UTF_8)) {
			hash ^= (b & 0xff);
			hash *= 0x100000001b3L;
		}
		hash ^= (hash >>> 33);
		hash *= 0xff51afd7ed558ccdL;
		hash ^= (hash >>> 33);
		return hash;
	}

	private void pause() {
		try {
			Thread.sleep(this.settings.retry().initialDelay().toMillis());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

}
