package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded output channel: ADDED and EXPIRED wait for room, DISOWNED and TERMINATED never wait.
 */
final class EventChannel implements StreamEvents {

	private final int capacity;

	private final ArrayDeque<StreamEvent> events = new ArrayDeque<>();

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition notEmpty = this.lock.newCondition();

	private final Condition notFull = this.lock.newCondition();

	private int bounded;

	EventChannel(int capacity) {
		this.capacity = capacity;
	}

	/**
	 * Adds an event; ADDED and EXPIRED wait while the channel holds {@code capacity} of them.
	 * @return false if {@code stillRunning} turned false while waiting (the event was not added)
	 */
	boolean put(StreamEvent event, java.util.function.BooleanSupplier stillRunning) throws InterruptedException {
		boolean boundedType = isBounded(event);
		this.lock.lock();
		try {
			while (boundedType && this.bounded >= this.capacity) {
				if (!stillRunning.getAsBoolean()) {
					return false;
				}
				this.notFull.await(100, TimeUnit.MILLISECONDS);
			}
			this.events.addLast(event);
			if (boundedType) {
				this.bounded++;
			}
			this.notEmpty.signal();
			return true;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Adds a DISOWNED or TERMINATED event without waiting.
	 */
	void add(StreamEvent event) {
		this.lock.lock();
		try {
			this.events.addLast(event);
			if (isBounded(event)) {
				this.bounded++;
			}
			this.notEmpty.signal();
		}
		finally {
			this.lock.unlock();
		}
	}

	@Override
	public StreamEvent take() throws InterruptedException {
		this.lock.lockInterruptibly();
		try {
			while (this.events.isEmpty()) {
				this.notEmpty.await();
			}
			return remove();
		}
		finally {
			this.lock.unlock();
		}
	}

	@Override
	public StreamEvent poll(Duration timeout) throws InterruptedException {
		long nanos = timeout.toNanos();
		this.lock.lockInterruptibly();
		try {
			while (this.events.isEmpty()) {
				if (nanos <= 0) {
					return null;
				}
				nanos = this.notEmpty.awaitNanos(nanos);
			}
			return remove();
		}
		finally {
			this.lock.unlock();
		}
	}

	@Override
	public int size() {
		this.lock.lock();
		try {
			return this.events.size();
		}
		finally {
			this.lock.unlock();
		}
	}

	private StreamEvent remove() {
		StreamEvent event = this.events.removeFirst();
		if (isBounded(event)) {
			this.bounded--;
			this.notFull.signal();
		}
		return event;
	}

	private static boolean isBounded(StreamEvent event) {
		return event.type() == StreamEvent.Type.ADDED || event.type() == StreamEvent.Type.EXPIRED;
	}

}
