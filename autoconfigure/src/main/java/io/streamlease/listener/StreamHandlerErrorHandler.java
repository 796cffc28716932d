package io.streamlease.listener;

import java.time.Duration;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeaseLostException;
import io.streamlease.LeasedStream;

/**
 * What happens when a {@code @StreamHandler} method fails on a stream (stream-level: a run; entry-level: one entry):
 * try again after a delay, or give up and recover the stream (by default: move it to the dead-letter stream). One
 * policy serves both modes. The auto-configured one is a {@link DefaultStreamErrorHandler} built from
 * {@code stream-lease.handler.*}; define a bean of this type to replace it.
 * <p>
 * The container counts every failed attempt in Redis under the stream's fencing token before it asks the policy,
 * so the count survives a failover: a stream that failed twice on one consumer and once on the next has 3 attempts.
 * A failure of a run that was cancelled (lease lost, shutdown) is not given to the policy.
 */
public interface StreamHandlerErrorHandler {

	/**
	 * Decides whether the stream is tried again.
	 * @param failure what the handler threw, wrapped in an exception that names the method and the stream
	 * @param attempts the failed attempts on the stream so far, this one included
	 * @return the delay before the next attempt, or null to stop trying and {@link #recover recover} the stream
	 */
	Duration retryDelay(HandlerFailedException failure, int attempts);

	/**
	 * Ends the processing of a stream that is not tried again. The default moves it to the dead-letter stream,
	 * with the failure as the detail. A stream still held when this returns (neither dead-lettered nor finished) is
	 * finished, the way spring-kafka commits a recovered record; throw to leave it unfinished (it is handed off
	 * and runs again from its checkpoint, here or on a peer).
	 */
	default void recover(FailedStream failed) {
		failed.deadLetter(failed.failure().getMessage() + " (attempt " + failed.attempts() + ")");
	}

	/**
	 * A stream whose handler failed for the last time, still held by this consumer.
	 */
	interface FailedStream {

		/** The stream, still held. */
		LeasedStream stream();

		/** The last failure. */
		HandlerFailedException failure();

		/** The failed attempts counted for the stream. */
		int attempts();

		/**
		 * Moves the stream's LBS entry to the service's dead-letter stream with the given detail and finishes the
		 * stream, in one fenced step.
		 * @throws LeaseLostException if this consumer no longer holds the lease
		 */
		void deadLetter(String detail);

	}

}
