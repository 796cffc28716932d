package io.streamlease;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * One data stream whose lease this consumer holds: exclusive, time-bounded ownership that the engine renews in
 * the background until the stream is finished ({@link #done()}), handed off, or lost.
 * <p>
 * Every write that must not happen after the lease is lost goes through a fenced operation
 * ({@link #checkpoint(String, Map)}, {@link #done()}): Redis accepts it only while this consumer still holds
 * the lease. Writes to other systems should carry the {@link #fencingToken()}, which strictly increases on
 * every acquisition of this stream's lease, so that those systems can refuse a stale writer.
 */
public interface LeasedStream {

	/**
	 * The name of the data stream (the {@code DataStreamName} of its LBS entry).
	 */
	String name();

	/**
	 * The id of the LBS entry that announced the stream.
	 */
	String lbsEntryId();

	/**
	 * The consumer id of this instance: the holder of the lease.
	 */
	String consumerId();

	/**
	 * The {@code Info} object of the LBS entry, empty when the producer sent none.
	 */
	Map<String, Object> info();

	/**
	 * The fencing token of this acquisition: greater than the token of every earlier acquisition of this stream.
	 */
	long fencingToken();

	/**
	 * Whether another consumer held this stream before (a claim after a failover or a handoff), so that the
	 * handler should resume from {@link #checkpoint()}.
	 */
	boolean recovered();

	/**
	 * When this consumer acquired the lease.
	 */
	Instant acquiredAt();

	/**
	 * The last checkpoint written for the stream: read when the lease was acquired, updated by every successful
	 * {@link #checkpoint(String, Map)}. {@link Checkpoint#NONE} when nothing was written yet.
	 */
	Checkpoint checkpoint();

	/**
	 * Writes the checkpoint: the last processed entry id of the data stream and a small user state that replaces
	 * the previous one. Fenced: Redis accepts it only while this consumer holds the lease.
	 * @param position the id of the last processed data stream entry, or an empty string
	 * @param state small user state, for example running totals
	 * @throws LeaseLostException if this consumer no longer holds the lease; nothing was written
	 */
	void checkpoint(String position, Map<String, String> state);

	/**
	 * Finishes the stream: releases the lease, acknowledges and deletes its LBS entry, in one fenced step.
	 * @throws LeaseLostException if this consumer no longer holds the lease; nothing was changed
	 */
	void done();

	/**
	 * Whether this consumer still holds the lease as far as it knows: the lease was neither finished, handed off
	 * nor lost, and its last confirmed renewal is recent enough that the lease cannot have lapsed on the server.
	 */
	boolean isOwned();

	/**
	 * Completes, with the reason, when this consumer stops holding the lease for any reason other than
	 * {@link #done()}: {@link ReleaseReason#DISOWNED} (lost to a stall, a partition or a renewal that found it gone),
	 * {@link ReleaseReason#HANDED_OFF} (at shutdown), or when it is asked to yield the stream for fair share
	 * ({@link ReleaseReason#REBALANCE}: the lease stays held for the rebalance grace period, so that the handler can
	 * checkpoint and return). Handlers use it as their cancellation signal.
	 */
	CompletionStage<ReleaseReason> released();

}
