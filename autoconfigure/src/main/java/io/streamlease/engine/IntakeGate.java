package io.streamlease.engine;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whether the engine takes new streams (reads the LBS and claims lapsed streams) or is paused. The threads that
 * take streams (the LBS reader, the claim worker) park here while it is closed, so that {@link #close} can wait
 * until they are parked: after that, no new stream arrives until {@link #open}. Renewal and the sweep do not pass
 * through the gate: a paused engine keeps its session and its held streams.
 */
final class IntakeGate {

	private final ReentrantLock lock = new ReentrantLock();

	/** Signalled when the gate opens or closes: wakes the parked threads. */
	private final Condition toggled = this.lock.newCondition();

	/** Signalled when a thread parks: wakes {@link #awaitParked}. */
	private final Condition arrived = this.lock.newCondition();

	private boolean open = true;

	private int parked;

	boolean isOpen() {
		this.lock.lock();
		try {
			return this.open;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Closes the gate.
	 * @return false if it was closed already
	 */
	boolean close() {
		return set(false);
	}

	/**
	 * Opens the gate and wakes the parked threads.
	 * @return false if it was open already
	 */
	boolean open() {
		return set(true);
	}

	private boolean set(boolean open) {
		this.lock.lock();
		try {
			if (this.open == open) {
				return false;
			}
			this.open = open;
			this.toggled.signalAll();
			this.arrived.signalAll();
			return true;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Called by a taking thread between two turns: while the gate is closed, parks at most {@code timeout} (so that
	 * the caller can check whether the engine still runs, and do what it does while paused).
	 * @return whether the gate is open
	 */
	boolean passOrPark(Duration timeout) throws InterruptedException {
		this.lock.lock();
		try {
			if (this.open) {
				return true;
			}
			this.parked++;
			this.arrived.signalAll();
			try {
				this.toggled.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
			}
			finally {
				this.parked--;
			}
			return this.open;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Waits at most {@code timeout} until {@code threads} taking threads are parked (or the gate opened again).
	 * @return whether they are
	 */
	boolean awaitParked(int threads, Duration timeout) throws InterruptedException {
		long left = timeout.toNanos();
		this.lock.lock();
		try {
			while (!this.open && this.parked < threads) {
				if (left <= 0) {
					return false;
				}
				left = this.arrived.awaitNanos(left);
			}
			return true;
		}
		finally {
			this.lock.unlock();
		}
	}

}
