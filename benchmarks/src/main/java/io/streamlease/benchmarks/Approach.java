package io.streamlease.benchmarks;

/**
 * The names of the approaches compared, as they appear in tables, charts and raw results.
 */
final class Approach {

	static final String ENGINE = "Stream Lease";

	static final String GO_MODEL = "Go mechanism (timer per stream)";

	static final String REDISSON = "Redisson RLock watchdog";

	static final String EVENTS_ONLY = "keyspace events only (Go mechanism)";

	static final String SWEEP_AND_EVENTS = "Stream Lease (sweep + events)";

	private Approach() {
	}

}
