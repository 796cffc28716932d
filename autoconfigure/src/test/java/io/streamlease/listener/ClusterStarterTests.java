package io.streamlease.listener;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisCluster;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The starter on a real 3-master Redis Cluster configured with {@code spring.data.redis.cluster.nodes}: handlers
 * of two services whose keys live on different masters, and entry-level data streams spread over every master.
 */
class ClusterStarterTests {

	static RedisCluster cluster;

	@BeforeAll
	static void startCluster() {
		cluster = RedisServers.startCluster(3);
	}

	@AfterAll
	static void stopCluster() {
		cluster.close();
	}

	@Test
	void handlersOfTwoServicesOnDifferentMastersProcessStreamsSpreadOverTheCluster() {
		String orders = serviceOnAnotherMasterThan(null);
		String sessions = serviceOnAnotherMasterThan(orders);
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withBean(Handlers.class)
			.withPropertyValues("spring.application.name=" + orders, "entries.service=" + sessions,
					"spring.data.redis.cluster.nodes=" + String.join(",", cluster.nodeAddresses()),
					"stream-lease.hb-interval=2s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
				for (int i = 0; i < 12; i++) {
					template.submit("order-" + i, Map.of("i", i));
					String data = "session-" + i;
					for (int n = 1; n <= 3; n++) {
						cluster.nodeForKey(data).command("XADD", data, "*", "n", Integer.toString(n));
					}
					cluster.nodeForKey(data).command("XADD", data, "*", "end", "1");
					template.submit(sessions, data, null);
				}
				Handlers handlers = context.getBean(Handlers.class);
				await().atMost(15, TimeUnit.SECONDS).until(() -> handlers.orders.size() == 12 && handlers.sums.size() == 12);
				assertThat(handlers.sums.values()).containsOnly(6L);
				await().atMost(5, TimeUnit.SECONDS)
					.until(() -> Long.valueOf(0).equals(cluster.nodeForKey(orders + "-input").command("XLEN", orders + "-input"))
							&& Long.valueOf(0).equals(cluster.nodeForKey(sessions + "-input").command("XLEN", sessions + "-input")));
			});
	}

	/** A service name whose keys live on another master than {@code other}'s. */
	private static String serviceOnAnotherMasterThan(String other) {
		for (int i = 0; i < 1000; i++) {
			String candidate = "svc" + i;
			if (other == null || cluster.nodeForKey(candidate + "-input") != cluster.nodeForKey(other + "-input")) {
				return candidate;
			}
		}
		throw new IllegalStateException("no service name on another master");
	}

	static class Handlers {

		final Map<String, Object> orders = new ConcurrentHashMap<>();

		final Map<String, Long> sums = new ConcurrentHashMap<>();

		@StreamHandler
		void order(LeasedStream stream) {
			this.orders.put(stream.name(), stream.info().get("i"));
		}

		@StreamHandler(service = "${entries.service}")
		void entry(StreamEntry entry, StreamState state) {
			if (entry.field("end") != null) {
				this.sums.put(entry.stream(), state.getLong("sum", 0));
				state.complete();
				return;
			}
			state.put("sum", Long.toString(state.getLong("sum", 0) + Long.parseLong(entry.field("n"))));
		}

	}

}
