package io.streamlease.engine;

import io.streamlease.StreamLeaseException;

/**
 * A call to Redis failed (unreachable, timed out, or answered with an error the engine cannot handle).
 */
public class RedisCallException extends StreamLeaseException {

	public RedisCallException(String message, Throwable cause) {
		super(message, cause);
	}

}
