package io.streamlease.listener;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Handlers that misbehave and streams submitted twice: what they get, and that nothing else is affected.
 */
class BadHandlerInputTests {

	@SharedRedisServer
	static RedisServer redis;

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=1s",
					"stream-lease.shutdown.grace-period=500ms");
	}

	@Test
	void aHandlerThatNeverReturnsKeepsItsLeaseWhileOtherStreamsGoOnAndIsCancelledAtShutdown() {
		runner("stuck").withBean(Stuck.class).run((context) -> {
			StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
			template.submit("forever", null);
			Stuck handler = context.getBean(Stuck.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.started.contains("forever"));
			template.submit("quick", null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.finished.contains("quick"));
			// several TTLs later the stuck stream is still held by its renewed lease, never disowned
			await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(4))
				.until(() -> Long.valueOf(1).equals(redis.command("HEXISTS", "{stuck-input}:owners", "forever")));
			assertThat(handler.interrupted).isEmpty();
			assertThat(redis.command("XLEN", "stuck-input")).isEqualTo(1L);
			context.close();
			assertThat(handler.interrupted).containsExactly("forever");
			// handed off: the session ended, so the record no longer counts (a peer would take the stream over)
			assertThat(redis.command("HLEN", "{stuck-input}:sessions")).isEqualTo(0L);
			assertThat(redis.command("XLEN", "stuck-input")).isEqualTo(1L);
		});
	}

	@Test
	void aStreamSubmittedTwiceWhileProcessedCountsEveryEntryOnce() {
		String data = "twice-data";
		for (int i = 1; i <= 5; i++) {
			redis.command("XADD", data, "*", "n", Integer.toString(i));
		}
		runner("twice").withBean(Summing.class).withPropertyValues("stream-lease.entry.checkpoint-every=1").run((context) -> {
			StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
			Summing handler = context.getBean(Summing.class);
			template.submit(data, null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.entries.get() == 5);
			template.submit(data, null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> Long.valueOf(1).equals(redis.command("HLEN", "{twice-input}:resubmits")));
			redis.command("XADD", data, "*", "end", "1");
			await().atMost(5, TimeUnit.SECONDS).until(() -> Long.valueOf(0).equals(redis.command("XLEN", "twice-input")));
			assertThat(handler.totals).containsExactly("15");
			assertThat(handler.entries.get()).isEqualTo(5);
			assertThat(redis.command("HEXISTS", "{twice-input}:owners", data)).isEqualTo(0L);
		});
	}

	@Test
	void aHandlerNamingAnInvalidServiceFailsStartupNamingTheMethod() {
		runner("valid").withBean(InvalidService.class).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasMessageContaining("InvalidService.handle()")
				.hasMessageContaining("service-name is 'a{b}'");
		});
	}

	static class InvalidService {

		@StreamHandler(service = "a{b}")
		void handle(LeasedStream stream) {
		}

	}

	static class Stuck {

		final List<String> started = new CopyOnWriteArrayList<>();

		final List<String> finished = new CopyOnWriteArrayList<>();

		final List<String> interrupted = new CopyOnWriteArrayList<>();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.started.add(stream.name());
			if (stream.name().equals("forever")) {
				try {
					new java.util.concurrent.CountDownLatch(1).await();
				}
				catch (InterruptedException ex) {
					this.interrupted.add(stream.name());
				}
				return;
			}
			this.finished.add(stream.name());
		}

	}

	static class Summing {

		final List<String> totals = new CopyOnWriteArrayList<>();

		final AtomicInteger entries = new AtomicInteger();

		@StreamHandler
		void handle(StreamEntry entry, StreamState state) {
			if (entry.field("end") != null) {
				this.totals.add(Long.toString(state.getLong("sum", 0)));
				state.complete();
				return;
			}
			state.put("sum", Long.toString(state.getLong("sum", 0) + Long.parseLong(entry.field("n"))));
			this.entries.incrementAndGet();
		}

	}

}
