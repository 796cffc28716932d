package io.streamlease;

/**
 * An application event published for each notification of an engine (listen with {@code @EventListener}).
 *
 * @param service the service
 * @param consumerId this consumer
 * @param type what happened
 * @param stream the data stream concerned, null for {@link Type#TERMINATED}
 * @param reason why, for {@link Type#DISOWNED} and {@link Type#TERMINATED}
 * @param origin for {@link Type#ADDED}: whether the stream is new to the service or was held by another consumer
 * before; null for the other types
 */
public record StreamLeaseEvent(String service, String consumerId, Type type, String stream, String reason,
		Origin origin) {

	/**
	 * An event without an {@link Origin} (any type but {@link Type#ADDED}, or from code written before it existed).
	 */
	public StreamLeaseEvent(String service, String consumerId, Type type, String stream, String reason) {
		this(service, consumerId, type, stream, reason, null);
	}

	/**
	 * The notification types, as in redis-stream-client-go.
	 */
	public enum Type {

		/** A stream was assigned to this consumer, or claimed after a peer lost it (see {@link Origin}). */
		ADDED,

		/** A peer's lease lapsed (published only when auto-claim is off). */
		EXPIRED,

		/** This consumer lost a lease it held; the handler was cancelled. */
		DISOWNED,

		/** The engine of the service stopped for good. */
		TERMINATED

	}

	/**
	 * Where an {@link Type#ADDED ADDED} stream comes from.
	 */
	public enum Origin {

		/** Read from the LBS: no consumer held the stream before (the handler starts from its beginning). */
		NEW,

		/**
		 * Held by another consumer (or an earlier session of this one) before: claimed after it lapsed, or taken
		 * after it was handed off; the handler resumes from {@link LeasedStream#checkpoint()}. Same as
		 * {@link LeasedStream#recovered()}.
		 */
		CLAIMED

	}

}
