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

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void promotesTheReplicaWithTheDataWhenAMasterIsKilled(RedisVersion version) throws Exception {
		try (RedisCluster cluster = RedisServers.startCluster(3, 1, RedisServerTests.specFor(version))) {
			assertThat(cluster.nodes()).hasSize(6);
			assertThat(cluster.masters()).containsExactlyElementsOf(cluster.nodes().subList(0, 3));
			assertThat(cluster.replicas()).containsExactlyElementsOf(cluster.nodes().subList(3, 6));
			for (RedisServer replica : cluster.replicas()) {
				assertThat((List<?>) replica.command("ROLE")).first().isEqualTo("slave");
			}
			String key = "lease:{orders}";
			RedisServer owner = cluster.nodeForKey(key);
			try (RespConnection connection = RespConnection.open(owner.host(), owner.port(), Duration.ofSeconds(2))) {
				assertThat(connection.call("SET", key, "held")).isEqualTo("OK");
				assertThat(connection.call("WAIT", "1", "2000")).isEqualTo(1L);
			}

			RedisServer killed = cluster.killMasterOf(key);
			assertThat(killed).isSameAs(owner);
			assertThat(killed.isRunning()).isFalse();
			RedisServer promoted = cluster.awaitPromotion(key, Duration.ofSeconds(15));

			assertThat(promoted).isNotSameAs(killed).isIn(cluster.nodes().subList(3, 6));
			assertThat(cluster.nodeForKey(key)).isSameAs(promoted);
			assertThat(cluster.masters()).contains(promoted).doesNotContain(killed);
			try (RespConnection connection = RespConnection.open(promoted.host(), promoted.port(),
					Duration.ofSeconds(2))) {
				assertThat(connection.call("GET", key)).isEqualTo("held");
				assertThat(connection.call("SET", key, "moved")).isEqualTo("OK");
			}
			RedisServer other = cluster.masters().stream().filter((node) -> node != promoted).findFirst().orElseThrow();
			assertThatThrownBy(() -> other.command("GET", key)).isInstanceOfSatisfying(RedisReplyException.class,
					(ex) -> assertThat(ex.errorReply())
						.isEqualTo("MOVED " + KeySlot.of(key) + " 127.0.0.1:" + promoted.port()));

			killed.start();
			cluster.awaitReplicasInSync(Duration.ofSeconds(15));
			assertThat(cluster.replicas()).contains(killed);
			assertThat((String) killed.command("INFO", "replication")).contains("role:slave",
					"master_port:" + promoted.port());
			try (RespConnection connection = RespConnection.open(killed.host(), killed.port(), Duration.ofSeconds(2))) {
				assertThat(connection.call("READONLY")).isEqualTo("OK");
				assertThat(connection.call("GET", key)).isEqualTo("moved");
			}
			cluster.awaitStateOk(Duration.ofSeconds(10));
		}
	}

	@ParameterizedTest
	@EnumSource(RedisVersion.class)
	void awaitPromotionReturnsTheMasterWhenItHasNotFailed(RedisVersion version) {
		try (RedisCluster cluster = RedisServers.startCluster(3, RedisServerTests.specFor(version))) {
			assertThat(cluster.replicas()).isEmpty();
			assertThat(cluster.awaitPromotion("foo", Duration.ofSeconds(5))).isSameAs(cluster.nodeForKey("foo"));
		}
	}

}
