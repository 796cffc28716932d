package io.streamlease;

import java.time.Duration;

/**
 * A {@link StreamHandler} method ran longer than {@code stream-lease.handler.timeout} on a stream (stream-level: the
 * whole run; entry-level: one entry): it was cancelled (interrupted, or its returned future cancelled) and the
 * attempt counts as failed. Whatever it did before is kept; only its fenced writes after losing the lease fail.
 */
public class HandlerTimeoutException extends HandlerFailedException {

	private final Duration timeout;

	public HandlerTimeoutException(String message, String stream, Duration timeout, Throwable cause) {
		super(message, stream, cause);
		this.timeout = timeout;
	}

	/**
	 * The timeout that was exceeded.
	 */
	public Duration getTimeout() {
		return this.timeout;
	}

}
