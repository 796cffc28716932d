package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One way of holding N leases (stream ownerships) and keeping them alive: our engine, the Go library's
 * mechanism, or Redisson's lock watchdog. The renewal scenario holds N with each and measures what keeping them
 * costs.
 */
interface LeaseHolder extends AutoCloseable {

	/** The approach's name in tables and charts. */
	String approach();

	/** Sets up whatever does not depend on N (our engine starts here); the heap is read after it. */
	default void prepare(int n) {
	}

	/**
	 * Acquires a lease on each stream; returns how many are held once every acquisition has been answered, or when
	 * {@code timeout} has passed. Fewer than asked is a result (the approach could not take or keep them all), not
	 * an error.
	 */
	int hold(List<String> streams, Duration timeout) throws InterruptedException;

	/** How often the approach renews a given lease. */
	Duration renewalPeriod();

	/** Renewal requests among the client's requests of a window (from {@link CommandCounter#difference}). */
	long renewalCalls(Map<String, Long> requests);

	/** Renewal ticks so far (one tick renews every held lease once); -1 if only the period tells. */
	long ticks();

	/** Leases the approach found lost so far (disowned, failed extension); -1 if it does not tell. */
	long lost();

	/** A Redis glob that matches exactly the lease keys of this approach (null when it keeps no key per lease). */
	String leaseKeyPattern();

	/** The hash that holds one field per lease, for approaches that keep no key per lease; null otherwise. */
	default String leaseHash() {
		return null;
	}

	/** The requests the approach's Redis client sent. */
	CommandCounter counter();

	/** Threads that the approach itself started (not Redisson's), by name. */
	long ownThreads();

	/** A note for the report about how the approach was set up. */
	String setup();

	@Override
	void close();

	static long threadsNamed(String prefix) {
		return Thread.getAllStackTraces().keySet().stream().filter((t) -> t.getName().startsWith(prefix)).count();
	}

}
