package io.streamlease.engine;

import java.time.Duration;

/**
 * The engine's output: the events an application consumes, in order. ADDED and EXPIRED events are bounded by
 * the output channel size: when the application does not keep up, the engine stops reading the LBS rather than
 * drop anything. DISOWNED and TERMINATED events are never held back (there are at most as many as leases).
 */
public interface StreamEvents {

	/**
	 * Waits for the next event.
	 * @throws InterruptedException if interrupted while waiting
	 */
	StreamEvent take() throws InterruptedException;

	/**
	 * Waits at most {@code timeout} for the next event.
	 * @return the event, or null if none came in time
	 * @throws InterruptedException if interrupted while waiting
	 */
	StreamEvent poll(Duration timeout) throws InterruptedException;

	/**
	 * How many events wait to be taken.
	 */
	int size();

}
