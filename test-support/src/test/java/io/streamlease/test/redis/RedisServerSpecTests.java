package io.streamlease.test.redis;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Tests for {@link RedisServerSpec}.
 */
class RedisServerSpecTests {

	@Test
	void isImmutable() {
		RedisServerSpec defaults = RedisServerSpec.defaults();
		RedisServerSpec changed = defaults.appendOnly(true).config("maxmemory", "1mb");
		assertThat(defaults.isAppendOnly()).isFalse();
		assertThat(defaults.settings()).doesNotContain("--maxmemory");
		assertThat(changed.settings()).containsSubsequence("--appendonly", "yes", "--maxmemory", "1mb");
	}

	@Test
	void passesExtraConfigurationAfterTheDefaultsSoItCanOverrideThem() {
		RedisServerSpec spec = RedisServerSpec.defaults().requirePass("secret").config("save", "60 1");
		assertThat(spec.settings()).containsExactly("--protected-mode", "no", "--save", "", "--appendonly", "no",
				"--requirepass", "secret", "--save", "60 1");
		assertThat(spec.clusterNode().settings()).containsSubsequence("--cluster-enabled", "yes",
				"--cluster-config-file", "nodes.conf");
		assertThat(spec.toString()).doesNotContain("secret");
	}

	@Test
	void rejectsDirectivesItSetsItselfAndMalformedNames() {
		assertThatIllegalArgumentException().isThrownBy(() -> RedisServerSpec.defaults().config("port", "6379"))
			.withMessageContaining("'port'");
		assertThatIllegalArgumentException().isThrownBy(() -> RedisServerSpec.defaults().config("--maxmemory", "1mb"))
			.withMessageContaining("without dashes");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RedisServerSpec.defaults().commandTimeout(Duration.ZERO));
	}

	@Test
	void passesTopologyDirectivesBeforeTheTestsOwnSoTheyCanBeOverridden() {
		RedisServerSpec spec = RedisServerSpec.defaults()
			.config("cluster-node-timeout", "5000")
			.clusterNode()
			.topologyConfig("cluster-node-timeout", "1000")
			.topologyConfig("replicaof", "127.0.0.1", "7000");
		assertThat(spec.settings()).containsSubsequence("--cluster-node-timeout", "1000", "--replicaof", "127.0.0.1",
				"7000", "--cluster-node-timeout", "5000");
		assertThat(spec.settings()).containsOnlyOnce("--replicaof");
	}

	@Test
	void givesSentinelsNoPersistencePasswordOrDirectivesOfTheirOwn() {
		RedisServerSpec sentinel = RedisServerSpec.defaults()
			.requirePass("secret")
			.appendOnly(true)
			.config("maxmemory", "1mb")
			.sentinel(List.of("sentinel monitor orders 127.0.0.1 7000 2"));
		assertThat(sentinel.isSentinel()).isTrue();
		assertThat(sentinel.isProcessOnly()).isTrue();
		assertThat(sentinel.sentinelConfig()).containsExactly("sentinel monitor orders 127.0.0.1 7000 2");
		assertThat(sentinel.settings()).containsExactly("--sentinel", "--protected-mode", "no");
	}

}
