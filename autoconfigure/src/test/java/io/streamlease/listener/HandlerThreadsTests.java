package io.streamlease.listener;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.EngineSettings;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Where handlers run: on Java 21 and later (CI runs this on Java 25) a stream-level handler that blocks runs on a
 * virtual thread per stream, so a pod holds more blocking streams than {@code handler.threads}; on Java 17 to 20,
 * or with {@code handler.virtual-threads=false}, on the bounded pool, which caps the streams held.
 */
class HandlerThreadsTests {

	private static final int STREAMS = 5;

	private static final int THREADS = 2;

	@SharedRedisServer
	static RedisServer redis;

	private ApplicationContextRunner runner(String service, boolean virtualThreads) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.consumer-id=" + service + "-pod",
					"stream-lease.hb-interval=2s", "stream-lease.shutdown.grace-period=200ms",
					"stream-lease.handler.threads=" + THREADS,
					"stream-lease.handler.virtual-threads=" + virtualThreads)
			.withBean(Blocking.class);
	}

	@Test
	void blockingStreamLevelHandlersRunOnVirtualThreadsFromJava21AndOnThePoolBefore() {
		boolean virtual = Runtime.version().feature() >= 21;
		runner("threads-default", true).run((context) -> {
			assertThat(context).hasNotFailed();
			Blocking handler = context.getBean(Blocking.class);
			try {
				submit(context, "v");
				int held = virtual ? STREAMS : THREADS;
				await().atMost(10, TimeUnit.SECONDS).until(() -> handler.threads.size() == held);
				assertThat(container(context).getEngine().ownedCount()).isEqualTo(held);
				assertThat(handler.threads.values()).allSatisfy((thread) -> {
					assertThat(isVirtual(thread)).as(thread.toString()).isEqualTo(virtual);
					if (!virtual) {
						assertThat(thread.getName()).startsWith("stream-lease-threads-default-handler");
					}
				});
				assertThat(container(context).getEngine().settings().maxConcurrentStreams())
					.isEqualTo(virtual ? EngineSettings.DEFAULT_MAX_CONCURRENT_STREAMS : THREADS);
			}
			finally {
				handler.release.complete(null);
			}
		});
	}

	@Test
	void virtualThreadsOffRunsHandlersOnThePoolOnEveryJava() {
		runner("threads-pool", false).run((context) -> {
			assertThat(context).hasNotFailed();
			Blocking handler = context.getBean(Blocking.class);
			try {
				submit(context, "p");
				await().atMost(10, TimeUnit.SECONDS).until(() -> handler.threads.size() == THREADS);
				assertThat(handler.threads.values()).allSatisfy((thread) -> {
					assertThat(isVirtual(thread)).as(thread.toString()).isFalse();
					assertThat(thread.getName()).startsWith("stream-lease-threads-pool-handler");
				});
				assertThat(container(context).getEngine().settings().maxConcurrentStreams()).isEqualTo(THREADS);
			}
			finally {
				handler.release.complete(null);
			}
		});
	}

	private static void submit(ApplicationContext context, String prefix) {
		for (int i = 1; i <= STREAMS; i++) {
			context.getBean(StreamLeaseTemplate.class).submit(prefix + i, null);
		}
	}

	/** Thread.isVirtual() (Java 19+), called reflectively: the code is compiled for Java 17. */
	static boolean isVirtual(Thread thread) {
		try {
			Method isVirtual = Thread.class.getMethod("isVirtual");
			return (boolean) isVirtual.invoke(thread);
		}
		catch (NoSuchMethodException ex) {
			return false;
		}
		catch (ReflectiveOperationException ex) {
			throw new IllegalStateException(ex);
		}
	}

	private static StreamLeaseContainer container(ApplicationContext context) {
		return context.getBean(StreamHandlerEndpointRegistry.class).getContainers().iterator().next();
	}

	static class Blocking {

		final Map<String, Thread> threads = new ConcurrentHashMap<>();

		final CompletableFuture<Void> release = new CompletableFuture<>();

		@StreamHandler
		void hold(LeasedStream stream) throws Exception {
			this.threads.put(stream.name(), Thread.currentThread());
			this.release.get(30, TimeUnit.SECONDS);
		}

	}

}
