package io.streamlease.engine;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;

import io.streamlease.Checkpoint;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;

/**
 * A lease held by this consumer. The renewer keeps {@link #safeUntilNanos} current; the fenced operations go
 * through the engine, which checks the lease on the server.
 */
final class Lease implements LeasedStream {

	enum State {

		HELD, DONE, HANDED_OFF, DISOWNED

	}

	private final StreamLeaseClient client;

	private final String name;

	private final String lbsEntryId;

	private final Map<String, Object> info;

	private final long fencingToken;

	private final boolean recovered;

	private final Instant acquiredAt = Instant.now();

	private final long acquiredNanos = System.nanoTime();

	private final String expectedValue;

	private final AtomicReference<State> state = new AtomicReference<>(State.HELD);

	private final CompletableFuture<Void> released = new CompletableFuture<>();

	private volatile Checkpoint checkpoint;

	/** The local safety deadline: after it, the lease may have lapsed on the server. */
	volatile long safeUntilNanos;

	Lease(StreamLeaseClient client, String name, String lbsEntryId, Map<String, Object> info, long fencingToken,
			boolean recovered, Checkpoint checkpoint, long safeUntilNanos) {
		this.client = client;
		this.name = name;
		this.lbsEntryId = lbsEntryId;
		this.info = info;
		this.fencingToken = fencingToken;
		this.recovered = recovered;
		this.checkpoint = checkpoint;
		this.safeUntilNanos = safeUntilNanos;
		this.expectedValue = client.store().leaseValue(fencingToken);
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public String lbsEntryId() {
		return this.lbsEntryId;
	}

	@Override
	public String consumerId() {
		return this.client.id();
	}

	@Override
	public Map<String, Object> info() {
		return this.info;
	}

	@Override
	public long fencingToken() {
		return this.fencingToken;
	}

	@Override
	public boolean recovered() {
		return this.recovered;
	}

	@Override
	public Instant acquiredAt() {
		return this.acquiredAt;
	}

	long acquiredNanos() {
		return this.acquiredNanos;
	}

	@Override
	public Checkpoint checkpoint() {
		return this.checkpoint;
	}

	@Override
	public void checkpoint(String position, Map<String, String> state) {
		ensureOwned("write the checkpoint of");
		List<String> reply = this.client.store().checkpoint(this.name, this.expectedValue, this.fencingToken,
				(position != null) ? position : "", state);
		if (!"OK".equals(reply.get(0))) {
			this.client.disown(this, "the checkpoint write found the lease " + describeHolder(reply.get(1)));
			throw lost("write the checkpoint of", reply.get(1));
		}
		String newPosition = (position != null) ? position : "";
		int attempts = newPosition.equals(this.checkpoint.position()) ? this.checkpoint.attempts() : 0;
		this.checkpoint = new Checkpoint(newPosition, state, this.fencingToken, attempts);
	}

	/**
	 * Counts one more handler attempt (fenced) and returns the count, which survives a failover.
	 */
	int countAttempt() {
		ensureOwned("count an attempt of");
		List<String> reply = this.client.store().countAttempt(this.name, this.expectedValue);
		if (!"OK".equals(reply.get(0))) {
			this.client.disown(this, "counting an attempt found the lease " + describeHolder(reply.get(1)));
			throw lost("count an attempt of", reply.get(1));
		}
		int attempts = Integer.parseInt(reply.get(1));
		this.checkpoint = this.checkpoint.withAttempts(attempts);
		return attempts;
	}

	@Override
	public void done() {
		this.client.finish(this);
	}

	@Override
	public boolean isOwned() {
		return this.state.get() == State.HELD && System.nanoTime() - this.safeUntilNanos < 0;
	}

	@Override
	public CompletionStage<Void> released() {
		return this.released;
	}

	State state() {
		return this.state.get();
	}

	String expectedValue() {
		return this.expectedValue;
	}

	/**
	 * Moves from HELD to {@code next}; completes {@link #released()} unless the stream is done.
	 * @return false if the lease was no longer held
	 */
	boolean end(State next) {
		if (!this.state.compareAndSet(State.HELD, next)) {
			return false;
		}
		if (next != State.DONE) {
			this.released.complete(null);
		}
		return true;
	}

	void ensureOwned(String action) {
		if (this.state.get() != State.HELD) {
			throw new LeaseLostException(this.name, "Cannot " + action + " stream '" + this.name + "': consumer '"
					+ this.client.id() + "' no longer holds its lease (" + this.state.get().name().toLowerCase().replace('_', ' ')
					+ ", fencing token " + this.fencingToken + ")");
		}
		if (System.nanoTime() - this.safeUntilNanos >= 0) {
			this.client.disown(this, "its last confirmed renewal is older than the local safety deadline");
			throw new LeaseLostException(this.name, "Cannot " + action + " stream '" + this.name + "': consumer '"
					+ this.client.id() + "' could not renew its lease in time, so another consumer may own it now");
		}
	}

	LeaseLostException lost(String action, String holder) {
		return new LeaseLostException(this.name, "Cannot " + action + " stream '" + this.name + "': consumer '"
				+ this.client.id() + "' no longer holds its lease (fencing token " + this.fencingToken + "); the lease is "
				+ describeHolder(holder) + ". Stop processing this stream: another consumer owns it now");
	}

	static String describeHolder(String holder) {
		if (holder == null || holder.isEmpty()) {
			return "gone";
		}
		int sep = holder.indexOf(':');
		int second = holder.indexOf(':', sep + 1);
		return "held by consumer '" + holder.substring(second + 1) + "' with fencing token " + holder.substring(0, sep);
	}

	@Override
	public String toString() {
		return "Lease[" + this.name + ", token " + this.fencingToken + ", " + this.state.get() + "]";
	}

}
