package io.streamlease.listener;

import io.streamlease.engine.StreamLeaseEngine;

/**
 * Creates the (not yet started) engine of a service: its settings, Redis client and metrics.
 */
@FunctionalInterface
public interface StreamLeaseEngineFactory {

	StreamLeaseEngine create(String service);

	/**
	 * Creates the engine of a service that must not hold more than {@code streamLimit} streams at once, whatever
	 * max-concurrent-streams says: a container whose handler holds a thread of a bounded pool per stream asks for
	 * no more streams than it has threads, so that streams never wait unprocessed while peers could take them. The
	 * default ignores the limit (for factories written before it existed).
	 * @param streamLimit the most streams the handler can process at once; {@link Integer#MAX_VALUE} for no limit
	 */
	default StreamLeaseEngine create(String service, int streamLimit) {
		return create(service);
	}

}
