package io.streamlease.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import io.streamlease.Checkpoint;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;
import io.streamlease.ReleaseReason;

/**
 * A stream held by this consumer: its ownership record, valid while this consumer's {@link Session} is; the
 * fenced operations go through its {@link Owner}, whose scripts check the record and the session on the server.
 * <p>
 * One of these lives per held stream (100,000 on a large pod), so it keeps its footprint small: the entry id and
 * the fencing token live in the record only, the acquisition time is a {@code long}, the state is a plain volatile
 * field changed through a {@link VarHandle}, and the {@link #released()} future is made only when somebody asks
 * for it (the container learns of yield requests through the engine's one listener instead).
 */
final class Lease implements LeasedStream {

	/** What a lease needs of the consumer that holds it. */
	interface Owner {

		/** The consumer id. */
		String consumerId();

		/** The lease store, for the fenced writes of the lease itself (checkpoint, attempt count). */
		LeaseStore store();

		/** Finishes the stream (fenced). */
		void finish(Lease lease);

		/**
		 * Marks the lease lost and tells the application (DISOWNED).
		 * @return false if the lease was no longer held
		 */
		boolean disown(Lease lease, String reason);

		/** Describes the ownership record a refused fenced write found, naming its holder when it can. */
		String describeHolder(String record);

		/** Fair share asked the handler to yield the stream (its {@code released()} completed with REBALANCE). */
		void yieldRequested(Lease lease);

	}

	enum State {

		HELD, DONE, HANDED_OFF, DISOWNED

	}

	private static final VarHandle STATE;

	private static final VarHandle RELEASED;

	private static final VarHandle REASON;

	static {
		try {
			MethodHandles.Lookup lookup = MethodHandles.lookup();
			STATE = lookup.findVarHandle(Lease.class, "state", State.class);
			RELEASED = lookup.findVarHandle(Lease.class, "released", CompletableFuture.class);
			REASON = lookup.findVarHandle(Lease.class, "releaseReason", ReleaseReason.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final Owner owner;

	private final String name;

	private final Map<String, Object> info;

	private final boolean recovered;

	/** When it was acquired, in nanoseconds since the epoch (an {@link Instant} per stream costs 24 bytes). */
	private final long acquiredEpochNanos;

	private final long acquiredNanos = System.nanoTime();

	private final OwnershipRecord record;

	private final Session session;

	private volatile State state = State.HELD;

	/** Made on the first call of {@link #released()}; completed with {@link #releaseReason} once that is set. */
	private volatile CompletableFuture<ReleaseReason> released;

	/** Why {@link #released()} completes, set once. */
	private volatile ReleaseReason releaseReason;

	/** The consumer this stream is to be handed off to (a rebalance asked it to yield), or null. */
	private volatile String yieldTarget;

	private volatile Checkpoint checkpoint;

	/** Set when finishing failed and the engine retries it: the stream is not handed off meanwhile. */
	volatile boolean finishing;

	Lease(Owner owner, String name, String lbsEntryId, Map<String, Object> info, long fencingToken,
			boolean recovered, Checkpoint checkpoint, Session session) {
		this.owner = owner;
		this.name = name;
		this.info = info;
		this.recovered = recovered;
		Instant now = Instant.now();
		this.acquiredEpochNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
		this.checkpoint = checkpoint;
		this.session = session;
		this.record = new OwnershipRecord(fencingToken, session.id(), lbsEntryId);
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public String lbsEntryId() {
		return this.record.lbsEntryId();
	}

	@Override
	public String consumerId() {
		return this.owner.consumerId();
	}

	@Override
	public Map<String, Object> info() {
		return this.info;
	}

	@Override
	public long fencingToken() {
		return this.record.token();
	}

	@Override
	public boolean recovered() {
		return this.recovered;
	}

	@Override
	public Instant acquiredAt() {
		return Instant.ofEpochSecond(0, this.acquiredEpochNanos);
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
		LeaseStore.Fenced reply = this.owner.store().checkpoint(this.name, this.record,
				(position != null) ? position : "", state);
		if (!reply.owned()) {
			this.owner.disown(this, "the checkpoint write found the stream " + this.owner.describeHolder(reply.value()));
			throw lost("write the checkpoint of", reply.value());
		}
		String newPosition = (position != null) ? position : "";
		int attempts = newPosition.equals(this.checkpoint.position()) ? this.checkpoint.attempts() : 0;
		this.checkpoint = new Checkpoint(newPosition, state, this.record.token(), attempts);
	}

	/**
	 * Counts one more handler attempt (fenced) and returns the count, which survives a failover.
	 */
	int countAttempt() {
		ensureOwned("count an attempt of");
		LeaseStore.Fenced reply = this.owner.store().countAttempt(this.name, this.record);
		if (!reply.owned()) {
			this.owner.disown(this, "counting an attempt found the stream " + this.owner.describeHolder(reply.value()));
			throw lost("count an attempt of", reply.value());
		}
		int attempts = Integer.parseInt(reply.value());
		this.checkpoint = this.checkpoint.withAttempts(attempts);
		return attempts;
	}

	@Override
	public void done() {
		this.owner.finish(this);
	}

	@Override
	public boolean isOwned() {
		return this.state == State.HELD && this.session.isSafe();
	}

	@Override
	public CompletionStage<ReleaseReason> released() {
		CompletableFuture<ReleaseReason> future = this.released;
		if (future == null) {
			CompletableFuture<ReleaseReason> made = new CompletableFuture<>();
			future = RELEASED.compareAndSet(this, null, made) ? made : this.released;
			// a reason set before the future existed completes it here; one set after, in release()
			ReleaseReason reason = this.releaseReason;
			if (reason != null) {
				future.complete(reason);
			}
		}
		return future;
	}

	/**
	 * Sets why {@link #released()} completes (the first reason wins) and completes it if it was made.
	 * @return false if a reason was set before
	 */
	private boolean release(ReleaseReason reason) {
		if (!REASON.compareAndSet(this, null, reason)) {
			return false;
		}
		CompletableFuture<ReleaseReason> future = this.released;
		if (future != null) {
			future.complete(reason);
		}
		return true;
	}

	State state() {
		return this.state;
	}

	OwnershipRecord record() {
		return this.record;
	}

	/**
	 * Moves from HELD to {@code next}; completes {@link #released()} unless the stream is done.
	 * @return false if the lease was no longer held
	 */
	boolean end(State next) {
		if (!STATE.compareAndSet(this, State.HELD, next)) {
			return false;
		}
		if (next != State.DONE) {
			release((next == State.DISOWNED) ? ReleaseReason.DISOWNED
					: (this.yieldTarget != null) ? ReleaseReason.REBALANCE : ReleaseReason.HANDED_OFF);
		}
		return true;
	}

	/**
	 * Asks the handler to yield this held stream (fair share): {@link #released()} completes with
	 * {@link ReleaseReason#REBALANCE} while the lease stays held, so that fenced writes still succeed.
	 * @return false if the stream is not held, is being finished, or was asked already
	 */
	boolean requestYield(String target) {
		if (this.state != State.HELD || this.finishing || this.yieldTarget != null) {
			return false;
		}
		this.yieldTarget = target;
		return true;
	}

	/**
	 * Tells the handler that a rebalance asked it to yield: the owner's yield listener first, then
	 * {@link #released()} completes with REBALANCE. In that order, a container marks the run as yielding before its
	 * handler can see the request and return (a handler that returns after a yield request is handed off, not
	 * finished).
	 */
	void announceYield() {
		if (this.state != State.HELD || this.releaseReason != null) {
			return;
		}
		this.owner.yieldRequested(this);
		release(ReleaseReason.REBALANCE);
	}

	/** Whether a rebalance asked the handler to yield this stream. */
	boolean yielding() {
		return this.yieldTarget != null;
	}

	/** The consumer a rebalance hands this stream to, or null. */
	String yieldTarget() {
		return this.yieldTarget;
	}

	void ensureOwned(String action) {
		if (this.state != State.HELD) {
			throw new LeaseLostException(this.name, "Cannot " + action + " stream '" + this.name + "': consumer '"
					+ this.owner.consumerId() + "' no longer holds its lease (" + this.state.name().toLowerCase().replace('_', ' ')
					+ ", fencing token " + this.record.token() + ")");
		}
		if (!this.session.isSafe()) {
			this.owner.disown(this, "the last confirmed renewal of the session is older than the local safety deadline");
			throw new LeaseLostException(this.name, "Cannot " + action + " stream '" + this.name + "': consumer '"
					+ this.owner.consumerId() + "' could not renew its session in time, so another consumer may own it now");
		}
	}

	LeaseLostException lost(String action, String found) {
		return new LeaseLostException(this.name, "Cannot " + action + " stream '" + this.name + "': consumer '"
				+ this.owner.consumerId() + "' no longer holds its lease (fencing token " + this.record.token() + "); the stream is "
				+ this.owner.describeHolder(found) + ". Stop processing this stream: another consumer owns it now");
	}

	@Override
	public String toString() {
		return "Lease[" + this.name + ", token " + this.record.token() + ", " + this.state + "]";
	}

}
