package io.streamlease.sample;

import io.streamlease.autoconfigure.StreamLeaseRedis;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.awaitility.Awaitility.await;

/**
 * With no Redis configured the application starts its own Redis and the demo producer, processes the demo
 * sessions, and stops that Redis when it closes.
 */
class EmbeddedRedisModeTests {

	@Test
	void startsItsOwnRedisAndTheDemoProducerWhenNoRedisIsConfiguredAndStopsItOnClose() {
		int port;
		try (ConfigurableApplicationContext context = new SpringApplicationBuilder(SampleApplication.class)
			.run("--server.port=0", "--sample.producer.interval=100ms", "--sample.producer.max-events=5")) {
			port = context.getEnvironment().getProperty("spring.data.redis.port", Integer.class);
			assertThat(port).isNotEqualTo(6379);
			assertThat(context.getEnvironment().getProperty("spring.data.redis.host")).isEqualTo("127.0.0.1");
			assertThat(context.containsBean(EmbeddedRedisApplicationListener.BEAN_NAME)).isTrue();
			assertThat(context.getBean(DemoSessionProducer.class).isRunning()).isTrue();

			// the demo sessions are processed and summarised exactly
			RedissonClient redisson = context.getBean(StreamLeaseRedis.class).getClient();
			await().atMost(Duration.ofSeconds(20))
				.until(() -> redisson.getKeys().getKeysStreamByPattern("summary:*").limit(3).count() == 3);
			redisson.getKeys().getKeysStreamByPattern("summary:*").limit(3).forEach((key) -> {
				String stream = key.substring("summary:".length());
				Map<String, String> summary = redisson.<String, String>getMap(key, StringCodec.INSTANCE).readAllMap();
				List<Long> amounts = redisson.<String, String>getStream(stream, StringCodec.INSTANCE)
					.range(org.redisson.api.stream.StreamMessageId.MIN, org.redisson.api.stream.StreamMessageId.MAX)
					.values()
					.stream()
					.filter((entry) -> "event".equals(entry.get("type")))
					.map((entry) -> Long.parseLong(entry.get("amount")))
					.toList();
				assertThat(summary).as(key)
					.containsEntry("events", Integer.toString(amounts.size()))
					.containsEntry("amount", Long.toString(amounts.stream().mapToLong(Long::longValue).sum()));
			});
		}
		assertThatExceptionOfType(IOException.class).as("the embedded Redis stopped").isThrownBy(() -> {
			try (Socket socket = new Socket()) {
				socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
			}
		});
	}

	@Test
	void startsNoRedisWhenAnyRedisConnectionPropertyIsSetOrItIsDisabled() {
		assertThat(EmbeddedRedisApplicationListener.shouldStart(new MockEnvironment())).isTrue();
		for (String property : List.of("spring.data.redis.host=redis.example", "spring.data.redis.port=6380",
				"spring.data.redis.url=redis://redis.example:6380", "spring.data.redis.cluster.nodes=a:1,b:2",
				"spring.data.redis.cluster.nodes[0]=a:1", "spring.data.redis.sentinel.master=mymaster",
				"sample.embedded-redis.enabled=false")) {
			String[] pair = property.split("=", 2);
			assertThat(EmbeddedRedisApplicationListener.shouldStart(new MockEnvironment().withProperty(pair[0], pair[1])))
				.as(property)
				.isFalse();
		}
	}

}
