package io.streamlease;

/**
 * Why {@link LeasedStream#released()} completed: why this consumer stops, or is asked to stop, processing a stream
 * without finishing it.
 */
public enum ReleaseReason {

	/**
	 * The lease was lost (a stall, a partition, a renewal that found the session gone, a refused fenced write):
	 * another consumer may own the stream already. Stop at once; nothing more can be written.
	 */
	DISOWNED,

	/**
	 * The stream was handed off to peers (shutdown, or handed back without finishing): they resume it from its
	 * checkpoint.
	 */
	HANDED_OFF,

	/**
	 * Fair share: this consumer holds more than its share and asks the handler to yield the stream. The lease is
	 * still held for the rebalance grace period, so the handler can checkpoint and return; then the stream is
	 * handed off to a consumer below its share (a stream-level handler still running then is interrupted).
	 */
	REBALANCE

}
