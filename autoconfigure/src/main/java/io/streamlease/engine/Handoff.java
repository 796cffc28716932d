package io.streamlease.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;

import io.streamlease.LeasedStream;
import org.redisson.api.RTopic;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Handoff, both ways. Outgoing: releases held streams without finishing them (their entries stay pending, their
 * checkpoints stay), one stream at a time (retried in the background while Redis does not answer), all held streams
 * in chunks of a thousand keeping the session, or the whole session in one call. Incoming: the subscription to the
 * handoff channel, whose messages ({@code handoff.lua} publishes them) become claim candidates for the claim worker,
 * so that peers claim at once instead of waiting for a lapse. What the {@link Rebalancer} needs of the engine too: it
 * hands off the streams it asked to yield, in batches, naming the peer meant to claim them.
 */
final class Handoff implements Rebalancer.Host {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	/** Streams per call of {@link #releaseHeld()}. */
	static final int CHUNK = 1000;

	private final RedissonClient redisson;

	private final EngineSettings settings;

	private final LeaseStore store;

	private final Session session;

	private final HeldStreams held;

	private final EngineStatus status;

	private final EngineRuntime runtime;

	private final RedisFailures failures;

	private final BlockingQueue<List<ClaimCandidate>> brokerInput;

	private final Runnable queued;

	private final Runnable dropped;

	private volatile Rebalancer rebalancer;

	private RTopic topic;

	private int listenerId;

	/**
	 * @param brokerInput where the candidates of a handoff message go
	 * @param queued wakes the claim worker after candidates were queued
	 * @param dropped what to do when they did not fit (sweep soon: it finds the released streams too)
	 */
	Handoff(RedissonClient redisson, EngineSettings settings, LeaseStore store, Session session, HeldStreams held,
			EngineStatus status, EngineRuntime runtime, RedisFailures failures,
			BlockingQueue<List<ClaimCandidate>> brokerInput, Runnable queued, Runnable dropped) {
		this.redisson = redisson;
		this.settings = settings;
		this.store = store;
		this.session = session;
		this.held = held;
		this.status = status;
		this.runtime = runtime;
		this.failures = failures;
		this.brokerInput = brokerInput;
		this.queued = queued;
		this.dropped = dropped;
	}

	/** The rebalancer started: a stream it asked to yield is handed off through it from now on. */
	void rebalancing(Rebalancer rebalancer) {
		this.rebalancer = rebalancer;
	}

	// ---- outgoing

	/**
	 * Hands one held stream off to peers without finishing it; nothing happens when the stream is not held, or when
	 * finishing it is being retried. A stream a rebalance asked to yield is released in a batch by the rebalancer,
	 * naming the peer meant to claim it; any other is released alone (see {@link #release(Lease, int)}).
	 */
	void handOffOne(LeasedStream stream) {
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
		release(lease, 0);
	}

	/**
	 * Releases one stream (already ended and removed from the held streams) on the server, keeping the session;
	 * retried in the background while Redis does not answer. Nothing happens when the session that held it is gone
	 * (its stream is claimable anyway).
	 * @param attempt 0 for the first call, else the number of the retry
	 */
	void release(Lease lease, int attempt) {
		String sessionId = this.session.id();
		if (sessionId == null || !sessionId.equals(lease.record().sessionId())) {
			return;
		}
		try {
			if (this.store.handoffStreams(sessionId, List.of(lease.name()), List.of(lease.record())) > 0) {
				this.status.handedOff(1);
			}
		}
		catch (RuntimeException ex) {
			if (this.runtime.isRunning() && this.failures.failed("handing off stream '" + lease.name() + "'", ex)) {
				this.runtime.retryLater(() -> release(lease, attempt + 1), attempt + 1);
			}
		}
	}

	/**
	 * Hands off every held stream (except those whose finishing is being retried) keeping the session: one call per
	 * thousand streams; a chunk whose call fails is released one stream at a time in the background.
	 * @return how many streams were handed off
	 */
	int releaseHeld() {
		List<Lease> leases = new ArrayList<>();
		for (Lease lease : this.held.snapshot()) {
			if (!lease.finishing && lease.end(Lease.State.HANDED_OFF)) {
				this.held.remove(lease);
				leases.add(lease);
			}
		}
		for (int from = 0; from < leases.size(); from += CHUNK) {
			List<Lease> chunk = leases.subList(from, Math.min(leases.size(), from + CHUNK));
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
				this.status.handedOff(this.store.handoffStreams(sessionId, names, records));
			}
			catch (RuntimeException ex) {
				// one by one, retried in the background while Redis does not answer
				this.failures.failed("handing off " + names.size() + " streams", ex);
				chunk.forEach((lease) -> release(lease, 1));
			}
		}
		if (!leases.isEmpty()) {
			logger.info("Consumer '{}' of service '{}' handed off {} streams", this.settings.consumerId(),
					this.settings.serviceName(), leases.size());
		}
		return leases.size();
	}

	/**
	 * Hands off every held stream at once by ending this consumer's session (one call, whatever the number of
	 * streams): peers are told and take the session's streams over in chunks. The leases are ended here first, so
	 * that a peer that takes a stream over once the session is ended never meets it still held here (a takeover
	 * of 1,000 streams is back in a few ms, sooner than 10,000 leases are ended). Best effort: when the call fails,
	 * the streams are left to lapse with the session.
	 * @return how many leases it ended
	 */
	int endSession() {
		int ended = 0;
		for (Lease lease : this.held.all()) {
			if (lease.end(Lease.State.HANDED_OFF)) {
				this.held.remove(lease);
				ended++;
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
						+ "lapses", this.settings.consumerId(), ex.getMessage());
			}
		}
		if (ended > 0 && this.session.id() == null) {
			this.status.handedOff(ended);
		}
		return ended;
	}

	// ---- what the rebalancer needs

	@Override
	public boolean isReading() {
		// a paused consumer keeps what it holds: it runs no rounds (and publishes no capacity, see ConsumerRegistration)
		return this.runtime.isReading() && !this.runtime.isPaused();
	}

	@Override
	public Iterable<Lease> leases() {
		return this.held.all();
	}

	@Override
	public int heldCount() {
		return this.held.size();
	}

	@Override
	public void handOff(Lease lease) {
		handOffOne(lease);
	}

	@Override
	public void movedOff(int count) {
		if (count > 0) {
			this.status.rebalanced(count);
		}
	}

	@Override
	public boolean redisFailed(String what, Throwable failure) {
		return this.failures.failed(what, failure);
	}

	// ---- incoming

	/** Subscribes to the handoff channel; may be called again after a failure (it subscribes once). */
	void subscribe() {
		if (this.topic != null) {
			return;
		}
		RTopic subscribing = this.redisson.getTopic(this.store.keys().handoffChannel(), StringCodec.INSTANCE);
		this.listenerId = subscribing.addListener(String.class, (channel, message) -> received(message));
		this.topic = subscribing;
	}

	/** Unsubscribes (best effort). */
	void unsubscribe() {
		if (this.topic != null) {
			try {
				this.topic.removeListener(this.listenerId);
			}
			catch (RuntimeException ex) {
				logger.debug("Could not unsubscribe from handoff messages", ex);
			}
		}
	}

	/** A handoff message arrived: its candidates go to the claim worker (a sweep soon when they do not fit). */
	void received(String message) {
		try {
			List<ClaimCandidate> batch = Message.parse(message).candidatesFor(this.settings.consumerId());
			if (batch.isEmpty()) {
				return;
			}
			if (this.brokerInput.offer(batch)) {
				this.queued.run();
			}
			else {
				this.dropped.run();
			}
		}
		catch (RuntimeException ex) {
			logger.debug("Ignored a malformed handoff message", ex);
		}
	}

	/**
	 * A message of the handoff channel: {@code {"consumer":c,"session":sid}} when consumer c ended its session,
	 * {@code {"consumer":c,"streams":[[stream,lbsId],...],"target":t}} when it released some streams (for a
	 * rebalance, naming the peer {@code t} meant to claim them).
	 *
	 * @param consumer the consumer that handed off, or null
	 * @param session whether it ended its whole session
	 * @param streams the released streams
	 * @param target the consumer meant to claim them (a rebalance), or null for any peer
	 */
	record Message(String consumer, boolean session, List<Released> streams, String target) {

		/** A stream released alone, with the LBS entry its claimer takes over. */
		record Released(String stream, String lbsId) {
		}

		/**
		 * Parses a message as {@code handoff.lua} publishes it.
		 * @throws RuntimeException if it is not JSON
		 */
		static Message parse(String message) {
			JsonNode root = LbsEntry.JSON.readTree(message);
			List<Released> streams = new ArrayList<>();
			for (JsonNode stream : root.path("streams")) {
				streams.add(new Released(stream.path(0).asString(), stream.path(1).asString("")));
			}
			return new Message(root.path("consumer").asString(null), root.has("session"), streams,
					root.path("target").asString(null));
		}

		/**
		 * What {@code self} should try to claim: nothing of its own handoff; every stream of a consumer that ended
		 * its session; each released stream ("rebalance" when a target is named, else "handoff").
		 */
		List<ClaimCandidate> candidatesFor(String self) {
			if (self.equals(this.consumer)) {
				return List.of();
			}
			List<ClaimCandidate> batch = new ArrayList<>();
			if (this.session) {
				batch.add(ClaimCandidate.ofConsumer(this.consumer, "handoff"));
			}
			for (Released released : this.streams) {
				batch.add(new ClaimCandidate(released.stream(), released.lbsId(),
						(this.target != null) ? "rebalance" : "handoff", this.consumer, this.target));
			}
			return batch;
		}

	}

}
