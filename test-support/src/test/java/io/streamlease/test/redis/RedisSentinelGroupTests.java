package io.streamlease.test.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Tests for {@link RedisSentinelGroup}, against every {@link RedisVersion} this machine can run as a child
 * process.
 */
class RedisSentinelGroupTests {

	private static final Duration FAILOVER_TIMEOUT = Duration.ofSeconds(15);

	private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

	static RedisServerSpec specFor(RedisVersion version) {
		assumeTrue(RedisServers.isSentinelGroupAvailable(version),
				() -> "Redis " + version.label() + " cannot run as a child process here");
		return RedisServerSpec.defaults().version(version);
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void promotesTheReplicaWithTheDataWhenTheMasterIsKilled(RedisVersion version) throws Exception {
		List<RedisServer> members = new ArrayList<>();
		try (RedisSentinelGroup group = RedisServers.startSentinelGroup("orders", 1, specFor(version))) {
			members.addAll(group.sentinels());
			assertThat(group.masterName()).isEqualTo("orders");
			assertThat(group.sentinelAddresses()).hasSize(3)
				.allSatisfy((address) -> assertThat(address).matches("127\\.0\\.0\\.1:\\d+"))
				.doesNotHaveDuplicates();
			assertThat(group.sentinels()).allSatisfy(
					(sentinel) -> assertThat((List<?>) sentinel.command("ROLE")).first().isEqualTo("sentinel"));
			RedisServer master = group.master();
			List<RedisServer> replicas = group.replicas();
			assertThat(replicas).hasSize(1).doesNotContain(master);
			members.add(master);
			members.addAll(replicas);
			assertThat((List<?>) master.command("ROLE")).first().isEqualTo("master");
			try (RespConnection connection = RespConnection.open(master.host(), master.port(), CONNECT_TIMEOUT)) {
				assertThat(connection.call("SET", "lease:42", "held")).isEqualTo("OK");
				assertThat(connection.call("WAIT", "1", "2000")).isEqualTo(1L);
			}

			RedisServer killed = group.killMaster();
			assertThat(killed).isSameAs(master);
			assertThat(killed.isRunning()).isFalse();
			RedisServer promoted = group.awaitFailover(FAILOVER_TIMEOUT);

			assertThat(promoted).isSameAs(replicas.get(0));
			assertThat(group.master()).isSameAs(promoted);
			assertThat(group.replicas()).containsExactly(killed);
			for (RedisServer sentinel : group.sentinels()) {
				assertThat(sentinel.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "orders"))
					.isEqualTo(List.of("127.0.0.1", Integer.toString(promoted.port())));
			}
			try (RespConnection connection = RespConnection.open(promoted.host(), promoted.port(), CONNECT_TIMEOUT)) {
				assertThat(connection.call("GET", "lease:42")).isEqualTo("held");
				assertThat(connection.call("SET", "lease:43", "held")).isEqualTo("OK");
			}
		}
		for (RedisServer member : members) {
			assertThat(member.isRunning()).isFalse();
			assertThat(LoopbackPorts.isFree(member.port())).isTrue();
		}
	}

	@Test
	void reconfiguresTheOtherReplicasToFollowTheNewMasterWithThePassword() throws Exception {
		RedisServerSpec spec = specFor(RedisVersion.defaultVersion()).requirePass("secret");
		try (RedisSentinelGroup group = RedisServers.startSentinelGroup("sessions", 2, spec)) {
			RedisServer killed = group.killMaster();
			RedisServer promoted = group.awaitFailover(FAILOVER_TIMEOUT);
			group.awaitReplicasInSync(FAILOVER_TIMEOUT);

			RedisServer follower = group.replicas().stream().filter(RedisServer::isRunning).findFirst().orElseThrow();
			assertThat(group.replicas()).containsExactlyInAnyOrder(killed, follower);
			assertThat(promoted.command("SET", "checkpoint", "7")).isEqualTo("OK");
			assertThat(promoted.command("WAIT", "1", "2000")).isEqualTo(1L);
			assertThat(follower.command("GET", "checkpoint")).isEqualTo("7");
			assertThat((String) follower.command("INFO", "replication")).contains("master_port:" + promoted.port());
		}
	}

	@Test
	void failsToStartWithAClearMessageWhenOnlyDockerIsAllowed() {
		String previous = System.getProperty(RedisBackend.PROPERTY);
		System.setProperty(RedisBackend.PROPERTY, "docker");
		try {
			assertThat(RedisServers.isSentinelGroupAvailable(RedisVersion.defaultVersion())).isFalse();
			assertThatIllegalStateException().isThrownBy(() -> RedisServers.startSentinelGroup("orders"))
				.withMessageContaining("as a child process")
				.withMessageContaining(RedisBackend.PROPERTY + "=docker allows Docker only");
		}
		finally {
			if (previous != null) {
				System.setProperty(RedisBackend.PROPERTY, previous);
			}
			else {
				System.clearProperty(RedisBackend.PROPERTY);
			}
		}
	}

	@Test
	void rejectsAMasterNameThatCannotBeWrittenToTheSentinelConfiguration() {
		assertThatIllegalArgumentException().isThrownBy(() -> RedisServers.startSentinelGroup("my master"))
			.withMessageContaining("'my master'");
	}

}
