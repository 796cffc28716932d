package io.streamlease.listener;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class StreamHandlerSmokeTests {

	static RedisServer redis;

	@BeforeAll
	static void start() {
		redis = RedisServers.start();
	}

	@AfterAll
	static void stop() {
		redis.close();
	}

	@Test
	void streamLevelHandlerRunsAndFinishes() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withUserConfiguration(Config.class)
			.withPropertyValues("spring.application.name=smoke", "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=2s")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				context.getBean(StreamLeaseTemplate.class).submit("s1", Map.of("a", 1));
				Handlers handlers = context.getBean(Handlers.class);
				await().atMost(5, TimeUnit.SECONDS).until(() -> handlers.seen.contains("s1"));
				await().atMost(5, TimeUnit.SECONDS).until(() -> Long.valueOf(0).equals(redis.command("XLEN", "smoke-input")));
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class Config {

		@Bean
		Handlers handlers() {
			return new Handlers();
		}

	}

	static class Handlers {

		final List<String> seen = new CopyOnWriteArrayList<>();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.seen.add(stream.name());
		}

	}

}
