package io.streamlease.engine;

import java.io.IOException;
import java.util.Locale;

import javax.net.ssl.SSLHandshakeException;

import org.redisson.client.RedisAuthRequiredException;
import org.redisson.client.RedisClusterDownException;
import org.redisson.client.RedisConnectionException;
import org.redisson.client.RedisMasterDownException;
import org.redisson.client.RedisNodeNotFoundException;
import org.redisson.client.RedisReadonlyException;
import org.redisson.client.RedisReconnectedException;
import org.redisson.client.RedisRedirectException;
import org.redisson.client.RedisRetryException;
import org.redisson.client.RedisTimeoutException;
import org.redisson.client.RedisTryAgainException;
import org.redisson.client.RedisWrongPasswordException;

/**
 * What kind of fault a failed call to Redis was, in one place: the engine rides out every transient fault
 * (connection refused or reset, timeouts, {@code LOADING}, {@code BUSY}, {@code READONLY}/{@code MASTERDOWN}
 * during a failover, {@code MOVED}/{@code ASK}/{@code CLUSTERDOWN}/{@code TRYAGAIN} in a cluster, and anything
 * it does not know) with back-off, and stops only for a configuration error that no retry can fix.
 */
enum RedisFault {

	/** Worth retrying: the engine backs off and tries again. */
	TRANSIENT(false),

	/** The LBS group is gone ({@code NOGROUP}: Redis restarted without persistence, or the group was deleted). */
	MISSING_GROUP(false),

	/** The credentials are refused ({@code WRONGPASS}, {@code NOAUTH}): a configuration error. */
	AUTHENTICATION(true),

	/** The Redis user may not run a command or touch a key the engine needs ({@code NOPERM}). */
	PERMISSION(true),

	/** The TLS handshake failed: the server's certificate is not trusted, or the client's is refused. */
	TLS(true);

	private final boolean fatal;

	RedisFault(boolean fatal) {
		this.fatal = fatal;
	}

	/** Whether no retry can fix it: the engine terminates with the reason. */
	boolean fatal() {
		return this.fatal;
	}

	/** Classifies a failure by the Redis error codes in it or its causes. */
	static RedisFault of(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			String message = cause.getMessage();
			if (cause instanceof RedisWrongPasswordException || cause instanceof RedisAuthRequiredException) {
				return AUTHENTICATION;
			}
			if (cause instanceof SSLHandshakeException || (message != null && message.contains("PKIX path"))) {
				return TLS;
			}
			if (message == null) {
				continue;
			}
			if (message.contains("NOPERM")) {
				return PERMISSION;
			}
			if (message.contains("WRONGPASS") || message.contains("NOAUTH")
					|| message.toLowerCase(Locale.ROOT).contains("invalid username-password pair")) {
				return AUTHENTICATION;
			}
			if (message.contains("NOGROUP")) {
				return MISSING_GROUP;
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return TRANSIENT;
	}

	/**
	 * Whether a failure says that Redis could not be reached or could not serve the call for now (no connection, a
	 * timeout, loading, busy, a failover or a cluster redirection in progress), as opposed to an error reply.
	 */
	static boolean unreachable(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof RedisConnectionException || cause instanceof RedisTimeoutException
					|| cause instanceof RedisRetryException || cause instanceof RedisNodeNotFoundException
					|| cause instanceof RedisReadonlyException || cause instanceof RedisMasterDownException
					|| cause instanceof RedisClusterDownException || cause instanceof RedisTryAgainException
					|| cause instanceof RedisRedirectException || cause instanceof RedisReconnectedException
					|| cause instanceof IOException) {
				return true;
			}
			String message = cause.getMessage();
			if (message != null && (message.startsWith("LOADING") || message.startsWith("BUSY")
					|| message.startsWith("MASTERDOWN") || message.startsWith("READONLY")
					|| message.startsWith("CLUSTERDOWN") || message.startsWith("TRYAGAIN"))) {
				return true;
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return false;
	}

	/** The reason a fatal fault terminates an engine, with what to do about it. */
	String reason(String what, Throwable failure) {
		String detail = LeaseScript.unwrap(failure).getMessage();
		return switch (this) {
			case AUTHENTICATION -> "Redis refused the credentials while " + what + " (" + detail + "): check "
					+ "spring.data.redis.username/password (or the RedissonClient's), then restart";
			case TLS -> "the TLS handshake with Redis failed while " + what + " (" + detail + "): check "
					+ "spring.data.redis.ssl.* and the SSL bundle's trust store, then restart";
			case PERMISSION -> "the Redis user may not run a command the engine needs while " + what + " (" + detail
					+ "): grant it the commands and keys listed in the README's ACL section, then restart";
			default -> what + ": " + detail;
		};
	}

}
