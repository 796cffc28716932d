package io.streamlease.engine;

/**
 * Where a component reports a failed call to Redis: a fatal configuration error terminates the engine, any other
 * fault is recorded (health DOWN, one WARN per outage) and the caller retries with back-off.
 */
@FunctionalInterface
interface RedisFailures {

	/**
	 * Reports a failed call.
	 * @param what what the call was doing, for logs and health ("renewing the session")
	 * @return whether the caller should go on (false when the engine terminates or stops)
	 */
	boolean failed(String what, Throwable failure);

}
