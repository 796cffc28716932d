package io.streamlease.test.redis;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Tests for {@link RedisVersion} and the system properties that choose versions and backends.
 */
class RedisVersionTests {

	private final String versionProperty = System.getProperty(RedisVersion.PROPERTY);

	private final String backendProperty = System.getProperty(RedisBackend.PROPERTY);

	@AfterEach
	void restoreProperties() {
		restore(RedisVersion.PROPERTY, this.versionProperty);
		restore(RedisBackend.PROPERTY, this.backendProperty);
	}

	private static void restore(String name, String value) {
		if (value == null) {
			System.clearProperty(name);
		}
		else {
			System.setProperty(name, value);
		}
	}

	@Test
	void defaultVersionComesFromTheSystemProperty() {
		System.clearProperty(RedisVersion.PROPERTY);
		assertThat(RedisVersion.defaultVersion()).isEqualTo(RedisVersion.V7);
		System.setProperty(RedisVersion.PROPERTY, "6.2");
		assertThat(RedisVersion.defaultVersion()).isEqualTo(RedisVersion.V6_2);
		assertThat(RedisServerSpec.defaults().version()).isEqualTo(RedisVersion.V6_2);
		System.setProperty(RedisVersion.PROPERTY, "7");
		assertThat(RedisVersion.defaultVersion()).isEqualTo(RedisVersion.V7);
		System.setProperty(RedisVersion.PROPERTY, "8");
		assertThatIllegalArgumentException().isThrownBy(RedisVersion::defaultVersion)
			.withMessageContaining(RedisVersion.PROPERTY)
			.withMessageContaining("'8'");
	}

	@Test
	void matchesReportedVersionsOfItsReleaseLine() {
		assertThat(RedisVersion.V7.matches("7.0.15")).isTrue();
		assertThat(RedisVersion.V7.matches("7.2.4")).isTrue();
		assertThat(RedisVersion.V7.matches("6.2.11")).isFalse();
		assertThat(RedisVersion.V6_2.matches("6.2.11")).isTrue();
		assertThat(RedisVersion.V6_2.matches("6.0.9")).isFalse();
	}

	@Test
	void forcedBackendIsTheOnlyOneTried() {
		System.setProperty(RedisBackend.PROPERTY, "embedded");
		assertThat(RedisServers.isAvailable(RedisVersion.V7)).isFalse();
		assertThatIllegalStateException()
			.isThrownBy(() -> RedisServers.start(RedisServerSpec.defaults().version(RedisVersion.V7)))
			.withMessageStartingWith("Cannot run Redis 7:")
			.withMessageContaining("embedded-redis");
		System.setProperty(RedisBackend.PROPERTY, "podman");
		assertThatIllegalArgumentException().isThrownBy(() -> RedisServers.isAvailable(RedisVersion.V7))
			.withMessageContaining("'podman'");
	}

	@Test
	void forcedEmbeddedBackendRunsRedis62() {
		System.setProperty(RedisBackend.PROPERTY, "embedded");
		org.junit.jupiter.api.Assumptions.assumeTrue(RedisExecutable.embeddedResource().isPresent(),
				"embedded-redis has no binary for this machine");
		try (RedisServer redis = RedisServers.start(RedisServerSpec.defaults().version(RedisVersion.V6_2))) {
			assertThat(redis.backend()).isEqualTo(RedisBackend.EMBEDDED);
			assertThat(redis.version()).startsWith("6.2.");
		}
	}

}
