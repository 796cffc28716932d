package io.streamlease;

/**
 * An application event published for each notification of an engine (listen with {@code @EventListener}).
 *
 * @param service the service
 * @param consumerId this consumer
 * @param type what happened
 * @param stream the data stream concerned, null for {@link Type#TERMINATED}
 * @param reason why, for {@link Type#DISOWNED} and {@link Type#TERMINATED}
 */
public record StreamLeaseEvent(String service, String consumerId, Type type, String stream, String reason) {

	/**
	 * The notification types, as in redis-stream-client-go.
	 */
	public enum Type {

		/** A stream was assigned to this consumer, or claimed after a peer lost it. */
		ADDED,

		/** A peer's lease lapsed (published only when auto-claim is off). */
		EXPIRED,

		/** This consumer lost a lease it held; the handler was cancelled. */
		DISOWNED,

		/** The engine of the service stopped for good. */
		TERMINATED

	}

}
