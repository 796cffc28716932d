package io.streamlease.engine;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The streams this consumer holds, by name, and its capacity (max-concurrent-streams): the reader and the claim
 * worker take streams only while there is room, and wait for room when there is none.
 */
final class HeldStreams {

	private final Map<String, Lease> leases = new ConcurrentHashMap<>();

	private final int capacity;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition freed = this.lock.newCondition();

	HeldStreams(int capacity) {
		this.capacity = capacity;
	}

	Lease get(String stream) {
		return this.leases.get(stream);
	}

	boolean holds(String stream) {
		return this.leases.containsKey(stream);
	}

	void put(Lease lease) {
		this.leases.put(lease.name(), lease);
	}

	/** Removes the lease if it is still the one held for its stream, and wakes those waiting for room. */
	void remove(Lease lease) {
		if (this.leases.remove(lease.name(), lease)) {
			signal();
		}
	}

	/** A live view of the held leases. */
	Collection<Lease> all() {
		return this.leases.values();
	}

	/** A copy of the held leases. */
	List<Lease> snapshot() {
		return List.copyOf(this.leases.values());
	}

	int size() {
		return this.leases.size();
	}

	/** How many more streams fit (0 or less when full). */
	int room() {
		return this.capacity - this.leases.size();
	}

	/** Waits at most {@code timeout} for room while there is none and {@code stillWanted} says so. */
	void awaitRoom(Duration timeout, BooleanSupplier stillWanted) throws InterruptedException {
		this.lock.lock();
		try {
			if (room() <= 0 && stillWanted.getAsBoolean()) {
				this.freed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
			}
		}
		finally {
			this.lock.unlock();
		}
	}

	/** Wakes every thread waiting for room (the engine stops). */
	void wakeAll() {
		this.lock.lock();
		try {
			this.freed.signalAll();
		}
		finally {
			this.lock.unlock();
		}
	}

	private void signal() {
		if (this.lock.tryLock()) {
			try {
				this.freed.signalAll();
			}
			finally {
				this.lock.unlock();
			}
		}
	}

}
