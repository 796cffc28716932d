package io.streamlease.engine;

/**
 * The lifecycle of an engine.
 */
public enum EngineState {

	/** Created, not started. */
	NEW,

	/** Starting: creating the group, registering the consumer, subscribing. */
	STARTING,

	/** Reading the LBS, renewing, sweeping. */
	RUNNING,

	/** Closing: the reader stopped, leases are being handed off. */
	STOPPING,

	/** Stopped for good (closed, a fatal error, or retries exhausted); see the termination reason. */
	TERMINATED

}
