package io.streamlease.listener;

import java.util.concurrent.Future;

import io.streamlease.LeasedStream;

/**
 * One stream being processed by the handler of a container (both modes).
 */
final class HandlerRun {

	final LeasedStream lease;

	volatile boolean cancelled;

	/** A rebalance asked the run to yield its stream. */
	volatile boolean yielding;

	volatile Future<?> future;

	/** Failures in a row whose attempt Redis could not count (it was unreachable). */
	volatile int uncounted;

	HandlerRun(LeasedStream lease) {
		this.lease = lease;
	}

	/**
	 * Cancels the run for good (lease lost, shutdown): interrupts the handler if it runs.
	 */
	void cancel() {
		this.cancelled = true;
		Future<?> running = this.future;
		if (running != null) {
			running.cancel(true);
		}
	}

}
