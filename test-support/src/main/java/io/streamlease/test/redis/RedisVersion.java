package io.streamlease.test.redis;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The Redis release lines the project is tested against.
 *
 * <p>The default comes from the system property {@value #PROPERTY}: {@code 6.2} or {@code 7}; when it is
 * absent the default is {@link #V7}.
 */
public enum RedisVersion {

	/**
	 * Redis 6.2: the {@code redis:6.2} image with Docker, otherwise a 6.2 {@code redis-server} on the PATH,
	 * otherwise the 6.2 binary shipped inside embedded-redis.
	 */
	V6_2("6.2", "redis:6.2"),

	/**
	 * Redis 7.x: the {@code redis:7.2} image with Docker, otherwise a 7.x {@code redis-server} on the PATH.
	 */
	V7("7", "redis:7.2");

	/** System property that chooses the default version: {@code 6.2} or {@code 7}. */
	public static final String PROPERTY = "stream-lease.test.redis-version";

	private final String label;

	private final String dockerImage;

	RedisVersion(String label, String dockerImage) {
		this.label = label;
		this.dockerImage = dockerImage;
	}

	/**
	 * Return the version chosen by the system property {@value #PROPERTY}, or {@link #V7} when it is absent.
	 * @return the default version
	 * @throws IllegalArgumentException if the property has a value other than {@code 6.2} or {@code 7}
	 */
	public static RedisVersion defaultVersion() {
		String value = System.getProperty(PROPERTY);
		if (value == null || value.isBlank()) {
			return V7;
		}
		for (RedisVersion version : values()) {
			if (version.label.equals(value.trim()) || version.name().equalsIgnoreCase(value.trim())) {
				return version;
			}
		}
		throw new IllegalArgumentException("System property " + PROPERTY + " is '" + value + "'; use one of "
				+ Arrays.stream(values()).map(RedisVersion::label).collect(Collectors.joining(", ")));
	}

	/**
	 * Return the label of this version as used in the system property, {@code 6.2} or {@code 7}.
	 * @return the label
	 */
	public String label() {
		return this.label;
	}

	String dockerImage() {
		return this.dockerImage;
	}

	/**
	 * Whether a server reporting the given version (such as {@code 7.0.15}) belongs to this release line.
	 */
	boolean matches(String reportedVersion) {
		return reportedVersion != null && reportedVersion.startsWith(this.label + ".");
	}

}
