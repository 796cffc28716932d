package io.streamlease.test.redis;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link RedisCluster}, against every {@link RedisVersion} this machine can run.
 */
class RedisClusterTests {

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void mastersReachStateOkAndEachServesItsOwnSlots(RedisVersion version) {
		try (RedisCluster cluster = RedisServers.startCluster(3, RedisServerTests.specFor(version))) {
			assertThat(cluster.nodes()).hasSize(3);
			assertThat(cluster.nodeAddresses()).hasSize(3)
				.allSatisfy((address) -> assertThat(address).matches("127\\.0\\.0\\.1:\\d+"))
				.doesNotHaveDuplicates();
			for (RedisServer node : cluster.nodes()) {
				String info = (String) node.command("CLUSTER", "INFO");
				assertThat(info).contains("cluster_state:ok", "cluster_known_nodes:3", "cluster_slots_assigned:16384");
			}
			for (String key : List.of("foo", "bar", "stream:{orders}", "lease:42")) {
				RedisServer owner = cluster.nodeForKey(key);
				assertThat(owner.command("CLUSTER", "KEYSLOT", key)).isEqualTo((long) KeySlot.of(key));
				assertThat(owner.command("SET", key, "value")).isEqualTo("OK");
				assertThat(owner.command("GET", key)).isEqualTo("value");
				RedisServer other = cluster.nodes().stream().filter((node) -> node != owner).findFirst().orElseThrow();
				assertThatThrownBy(() -> other.command("GET", key)).isInstanceOfSatisfying(RedisReplyException.class,
						(ex) -> assertThat(ex.errorReply())
							.isEqualTo("MOVED " + KeySlot.of(key) + " 127.0.0.1:" + owner.port()));
			}
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void killedNodeRejoinsWhenStartedAgain(RedisVersion version) {
		try (RedisCluster cluster = RedisServers.startCluster(3, RedisServerTests.specFor(version))) {
			RedisServer node = cluster.nodes().get(1);
			String nodeId = (String) node.command("CLUSTER", "MYID");
			node.kill();
			node.start();
			cluster.awaitStateOk(Duration.ofSeconds(10));
			assertThat(node.command("CLUSTER", "MYID")).isEqualTo(nodeId);
			assertThat((String) node.command("CLUSTER", "INFO")).contains("cluster_known_nodes:3");
		}
	}

}
