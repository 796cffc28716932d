package io.streamlease;

/**
 * Base class of the exceptions thrown by Stream Lease.
 */
public class StreamLeaseException extends RuntimeException {

	public StreamLeaseException(String message) {
		super(message);
	}

	public StreamLeaseException(String message, Throwable cause) {
		super(message, cause);
	}

}
