package io.streamlease.autoconfigure;

import io.streamlease.DuplicateConsumerException;
import io.streamlease.StreamLeaseException;
import io.streamlease.engine.RedisCallException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a Stream Lease startup failure (a duplicate consumer id, credentials or a command refused by Redis, Redis
 * unreachable with {@code stream-lease.startup.fail-fast}) into Spring Boot's short "APPLICATION FAILED TO START"
 * description and action instead of a stack trace. Credentials in the message are masked.
 */
class StreamLeaseFailureAnalyzer extends AbstractFailureAnalyzer<StreamLeaseException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, StreamLeaseException cause) {
		return new FailureAnalysis(Redaction.redact(cause.getMessage()), action(cause), cause);
	}

	private static String action(StreamLeaseException cause) {
		if (cause instanceof DuplicateConsumerException) {
			return "Give every instance a unique consumer id: set stream-lease.consumer-id, or the POD_NAME environment "
					+ "variable (a StatefulSet's pod name), or leave both unset for a generated one.";
		}
		if (cause instanceof RedisCallException) {
			return "Check that Redis is up and reachable with the spring.data.redis.* settings (host, port, ssl, "
					+ "username, password), raise stream-lease.startup.timeout, or set stream-lease.startup.fail-fast=false "
					+ "to start anyway and connect as soon as Redis answers.";
		}
		return "Check the spring.data.redis.* settings (credentials, ACL rules: see the README's section on Redis ACL "
				+ "users) and the stream-lease.* properties named above.";
	}

}
