package io.streamlease.engine;

import io.streamlease.LeasedStream;

/**
 * A notification from the engine, of one of the four types of redis-stream-client-go.
 *
 * @param type what happened
 * @param stream the data stream concerned; null for {@link Type#TERMINATED}
 * @param lease the lease for {@link Type#ADDED} and {@link Type#DISOWNED}, null otherwise
 * @param reason why, for {@link Type#DISOWNED} and {@link Type#TERMINATED}; null otherwise
 * @param cause the failure behind a {@link Type#TERMINATED}, if any
 */
public record StreamEvent(Type type, String stream, LeasedStream lease, String reason, Throwable cause) {

	/**
	 * The notification types.
	 */
	public enum Type {

		/** A stream was assigned to this consumer (read from the LBS, or claimed when auto-claim is on). */
		ADDED,

		/** A peer's lease lapsed and the stream can be claimed (delivered only when auto-claim is off). */
		EXPIRED,

		/** This consumer lost a lease it held: its handler must stop. */
		DISOWNED,

		/** The engine stopped for good: closed, a fatal error, or retries exhausted. */
		TERMINATED

	}

	static StreamEvent added(LeasedStream lease) {
		return new StreamEvent(Type.ADDED, lease.name(), lease, null, null);
	}

	static StreamEvent expired(String stream) {
		return new StreamEvent(Type.EXPIRED, stream, null, null, null);
	}

	static StreamEvent disowned(LeasedStream lease, String reason) {
		return new StreamEvent(Type.DISOWNED, lease.name(), lease, reason, null);
	}

	static StreamEvent terminated(String reason, Throwable cause) {
		return new StreamEvent(Type.TERMINATED, null, null, reason, cause);
	}

}
