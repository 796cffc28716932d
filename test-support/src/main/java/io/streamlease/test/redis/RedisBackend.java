package io.streamlease.test.redis;

import java.util.Locale;
import java.util.Optional;

/**
 * How a Redis server is run. Without the system property {@value #PROPERTY} the first that can provide the
 * requested {@link RedisVersion} is used, in declaration order; with it, only the named backend is tried.
 */
public enum RedisBackend {

	/**
	 * A Testcontainers container of the official {@code redis} image, used when a Docker daemon answers.
	 */
	DOCKER,

	/** A {@code redis-server} found on the PATH, run as a child process. */
	BINARY,

	/** The {@code redis-server} binary shipped inside the embedded-redis jar (6.2, linux and mac only). */
	EMBEDDED;

	/** System property that forces a backend: {@code docker}, {@code binary} or {@code embedded}. */
	public static final String PROPERTY = "stream-lease.test.redis-backend";

	static Optional<RedisBackend> forced() {
		String value = System.getProperty(PROPERTY);
		if (value == null || value.isBlank()) {
			return Optional.empty();
		}
		try {
			return Optional.of(valueOf(value.trim().toUpperCase(Locale.ROOT)));
		}
		catch (IllegalArgumentException ex) {
			throw new IllegalArgumentException("System property " + PROPERTY + " is '" + value
					+ "'; use docker, binary or embedded, or leave it unset to choose automatically", ex);
		}
	}

}
