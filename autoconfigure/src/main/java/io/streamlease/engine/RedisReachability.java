package io.streamlease.engine;

import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the engine's last calls to Redis succeeded, what failed last, and one WARN per outage (DEBUG for the
 * failures that follow it, INFO with the outage's length when Redis answers again). What the health indicator and
 * the streams endpoint report.
 */
final class RedisReachability {

	private static final Logger logger = LoggerFactory.getLogger(StreamLeaseEngine.class);

	private final String service;

	private final Runnable onRecovery;

	private volatile boolean reachable = true;

	private volatile String lastFailure;

	private volatile long unreachableSinceNanos = System.nanoTime();

	/**
	 * @param service the service, for logs
	 * @param onRecovery what to do when Redis answers again after failures (check keyspace settings a restarted
	 * server forgot)
	 */
	RedisReachability(String service, Runnable onRecovery) {
		this.service = service;
		this.onRecovery = onRecovery;
	}

	void failed(String what, Throwable failure) {
		boolean wasReachable = this.reachable;
		this.reachable = false;
		String message = LeaseScript.unwrap(failure).getMessage();
		this.lastFailure = what + ": " + message;
		if (wasReachable) {
			this.unreachableSinceNanos = System.nanoTime();
			logger.warn("Redis call failed while {} for service '{}': {}; retrying with back-off until it answers", what,
					this.service, message);
		}
		else {
			logger.debug("Redis call failed while {}", what, failure);
		}
	}

	void succeeded() {
		if (!this.reachable) {
			this.reachable = true;
			logger.info("Redis is reachable again for service '{}' (unreachable for {} ms)", this.service,
					TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - this.unreachableSinceNanos));
			this.onRecovery.run();
		}
	}

	boolean isReachable() {
		return this.reachable;
	}

	String lastFailure() {
		return this.lastFailure;
	}

}
