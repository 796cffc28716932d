package io.streamlease.listener;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.streamlease.HandlerFailedException;
import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;
import io.streamlease.StreamHandler;
import io.streamlease.StreamState;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The error policy as a bean of its own, the handler timeout and the per-handler overrides, on a real Redis.
 */
@ExtendWith(OutputCaptureExtension.class)
class ErrorHandlerAndTimeoutTests {

	@SharedRedisServer
	static RedisServer redis;

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=2s",
					"stream-lease.handler.initial-backoff=50ms", "stream-lease.handler.max-backoff=200ms",
					"stream-lease.shutdown.grace-period=500ms");
	}

	// ---- a custom error handler bean

	@Test
	void aCustomErrorHandlerBeanDecidesRetriesAndRecoveryOfAStreamLevelHandler() {
		String service = RedisServerExtension.uniqueName("custom-policy");
		RecordingErrorHandler policy = new RecordingErrorHandler(2);
		runner(service).withBean(StreamHandlerErrorHandler.class, () -> policy).withBean(Failing.class).run((context) -> {
			assertThat(context).hasSingleBean(StreamHandlerErrorHandler.class);
			assertThat(context.getBean(StreamHandlerErrorHandler.class)).isSameAs(policy);
			context.getBean(StreamLeaseTemplate.class).submit("bad", null);
			await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			assertThat(context.getBean(Failing.class).calls.get()).isEqualTo(2);
			assertThat(policy.asked).containsExactly(1, 2);
			assertThat(policy.recovered).containsExactly("bad after 2");
			// recovered without a dead letter: the stream was finished
			assertThat(redis.command("EXISTS", "{" + service + "-input}:dead-letters")).isEqualTo(0L);
		});
	}

	@Test
	void theSameCustomErrorHandlerServesAnEntryLevelHandler() {
		String service = RedisServerExtension.uniqueName("custom-entries");
		RecordingErrorHandler policy = new RecordingErrorHandler(3);
		String stream = "data-" + service;
		for (int i = 1; i <= 3; i++) {
			redis.command("XADD", stream, "*", "n", Integer.toString(i));
		}
		runner(service).withBean(StreamHandlerErrorHandler.class, () -> policy).withBean(FailingOnTwo.class)
			.run((context) -> {
				context.getBean(StreamLeaseTemplate.class).submit(stream, null);
				await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
				assertThat(context.getBean(FailingOnTwo.class).seen).containsExactly("1", "2", "2", "2");
				assertThat(policy.asked).containsExactly(1, 2, 3);
				assertThat(policy.recovered).containsExactly(stream + " after 3");
			});
	}

	@Test
	void aDefaultErrorHandlerBeanWithNotRetryableExceptionsDeadLettersAtTheFirstSuchFailure() {
		String service = RedisServerExtension.uniqueName("not-retryable");
		runner(service)
			.withBean(StreamHandlerErrorHandler.class,
					() -> new DefaultStreamErrorHandler(5, Duration.ofMillis(50), Duration.ofMillis(100))
						.addNotRetryableExceptions(IllegalArgumentException.class))
			.withBean(Rejecting.class)
			.run((context) -> {
				context.getBean(StreamLeaseTemplate.class).submit("invalid", null);
				await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
				assertThat(context.getBean(Rejecting.class).calls.get()).isEqualTo(1);
				assertThat(deadLetters(service)).contains("not retried: java.lang.IllegalArgumentException is not retryable");
			});
	}

	// ---- the handler timeout

	@Test
	void aStreamLevelRunBeyondTheTimeoutIsInterruptedRetriedThenDeadLettered(CapturedOutput output) {
		String service = RedisServerExtension.uniqueName("timeout");
		runner(service).withBean(Sleeping.class)
			.withPropertyValues("stream-lease.handler.timeout=300ms", "stream-lease.handler.max-attempts=2")
			.run((context) -> {
				context.getBean(StreamLeaseTemplate.class).submit("slow", null);
				await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
				Sleeping handler = context.getBean(Sleeping.class);
				assertThat(handler.interrupted).containsExactly("slow", "slow");
				assertThat(deadLetters(service)).contains("exceeded stream-lease.handler.timeout (PT0.3S) on stream 'slow'")
					.contains("attempt 2 of 2");
				// one WARN line per timed-out attempt, naming the handler id, the method, the service and the stream
				String line = "@StreamHandler 'sleeper' (ErrorHandlerAndTimeoutTests.Sleeping.handle()) of service '"
						+ service + "' exceeded stream-lease.handler.timeout (PT0.3S) on stream 'slow': cancelled it";
				assertThat(output.getOut().lines().filter((logged) -> logged.contains(line)))
					.hasSize(2)
					.allMatch((logged) -> logged.contains("WARN"));
			});
	}

	@Test
	void aFutureThatDoesNotCompleteWithinTheTimeoutIsCancelledAndRetried() {
		String service = RedisServerExtension.uniqueName("timeout-async");
		runner(service).withBean(NeverCompleting.class)
			.withPropertyValues("stream-lease.handler.timeout=300ms", "stream-lease.handler.max-attempts=2")
			.run((context) -> {
				context.getBean(StreamLeaseTemplate.class).submit("pending", null);
				await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
				List<CompletableFuture<Void>> futures = context.getBean(NeverCompleting.class).futures;
				assertThat(futures).hasSize(2).allMatch(CompletableFuture::isCancelled);
				assertThat(deadLetters(service)).contains("exceeded stream-lease.handler.timeout");
			});
	}

	@Test
	void anEntryBeyondTheTimeoutIsInterruptedAndRetriedAndTheStreamGoesOn() {
		String service = RedisServerExtension.uniqueName("timeout-entry");
		String stream = "data-" + service;
		for (int i = 1; i <= 3; i++) {
			redis.command("XADD", stream, "*", "n", Integer.toString(i));
		}
		redis.command("XADD", stream, "*", "end", "1");
		runner(service).withBean(StuckOnceOnTwo.class).withPropertyValues("stream-lease.handler.timeout=300ms")
			.run((context) -> {
				context.getBean(StreamLeaseTemplate.class).submit(stream, null);
				StuckOnceOnTwo handler = context.getBean(StuckOnceOnTwo.class);
				await().atMost(10, TimeUnit.SECONDS).until(() -> handler.result.containsKey(stream));
				assertThat(handler.result.get(stream)).isEqualTo("1,2,3");
				assertThat(handler.interrupted.get()).isEqualTo(1);
				await().atMost(5, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
				assertThat(redis.command("EXISTS", "{" + service + "-input}:dead-letters")).isEqualTo(0L);
			});
	}

	@Test
	void withoutATimeoutALongRunIsLeftAlone() {
		String service = RedisServerExtension.uniqueName("no-timeout");
		runner(service).withBean(Sleeping.class).withPropertyValues("sleep.millis=800").run((context) -> {
			context.getBean(StreamLeaseTemplate.class).submit("long", null);
			await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
			Sleeping handler = context.getBean(Sleeping.class);
			assertThat(handler.completed).containsExactly("long");
			assertThat(handler.interrupted).isEmpty();
		});
	}

	// ---- per-handler overrides

	@Test
	void aHandlersOwnAttemptsAndBackoffReplaceTheProperties() {
		String service = RedisServerExtension.uniqueName("override");
		runner(service).withBean(FailingTwice.class)
			.withPropertyValues("stream-lease.handler.max-attempts=5", "failing.attempts=2")
			.run((context) -> {
				context.getBean(StreamLeaseTemplate.class).submit("bad", null);
				await().atMost(10, TimeUnit.SECONDS).until(() -> lbsLength(service) == 0);
				assertThat(context.getBean(FailingTwice.class).calls.get()).isEqualTo(2);
				assertThat(deadLetters(service)).contains("attempt 2 of 2");
			});
	}

	@Test
	void aHandlersConcurrencyCapLimitsTheStreamsItsServiceHolds() {
		String service = RedisServerExtension.uniqueName("cap");
		runner(service).withBean(CappedBlocking.class).run((context) -> {
			StreamLeaseContainer container = context.getBean(StreamHandlerEndpointRegistry.class).getContainers()
				.iterator().next();
			assertThat(container.getEngine().settings().maxConcurrentStreams()).isEqualTo(2);
			StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
			for (int i = 0; i < 4; i++) {
				template.submit("s" + i, null);
			}
			CappedBlocking handler = context.getBean(CappedBlocking.class);
			await().atMost(5, TimeUnit.SECONDS).until(() -> handler.started.size() == 2);
			await().during(Duration.ofMillis(500)).atMost(2, TimeUnit.SECONDS)
				.until(() -> handler.started.size() == 2 && container.getEngine().ownedCount() == 2);
		});
	}

	@Test
	void anInvalidOverrideFailsStartupNamingTheAttributeAndTheValue() {
		runner(RedisServerExtension.uniqueName("bad-override")).withBean(BadOverride.class).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure())
				.hasMessageContaining("@StreamHandler(maxAttempts = \"many\") on BadOverride.handle() is invalid")
				.hasMessageContaining("whole number greater than 0");
		});
	}

	@Test
	void overridingTheAttemptsOfACustomErrorHandlerFailsStartupSayingWhy() {
		runner(RedisServerExtension.uniqueName("custom-override"))
			.withBean(StreamHandlerErrorHandler.class, () -> new RecordingErrorHandler(1))
			.withBean(FailingTwice.class)
			.withPropertyValues("failing.attempts=2")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure())
					.hasMessageContaining("FailingTwice.handle() sets maxAttempts")
					.hasMessageContaining("is not a DefaultStreamErrorHandler");
			});
	}

	private static long lbsLength(String service) {
		return (Long) redis.command("XLEN", service + "-input");
	}

	private static String deadLetters(String service) {
		return redis.command("XRANGE", "{" + service + "-input}:dead-letters", "-", "+").toString();
	}

	/**
	 * Retries at once up to a number of attempts, then records the stream instead of dead-lettering it.
	 */
	static final class RecordingErrorHandler implements StreamHandlerErrorHandler {

		final List<Integer> asked = new CopyOnWriteArrayList<>();

		final List<String> recovered = new CopyOnWriteArrayList<>();

		private final int attempts;

		RecordingErrorHandler(int attempts) {
			this.attempts = attempts;
		}

		@Override
		public Duration retryDelay(HandlerFailedException failure, int attempts) {
			this.asked.add(attempts);
			return (attempts < this.attempts) ? Duration.ofMillis(10) : null;
		}

		@Override
		public void recover(FailedStream failed) {
			this.recovered.add(failed.stream().name() + " after " + failed.attempts());
		}

	}

	static class Failing {

		final AtomicInteger calls = new AtomicInteger();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.calls.incrementAndGet();
			throw new IllegalStateException("boom");
		}

	}

	static class FailingTwice {

		final AtomicInteger calls = new AtomicInteger();

		@StreamHandler(maxAttempts = "${failing.attempts}", initialBackoff = "20ms", maxBackoff = "40ms")
		void handle(LeasedStream stream) {
			this.calls.incrementAndGet();
			throw new IllegalStateException("boom");
		}

	}

	static class Rejecting {

		final AtomicInteger calls = new AtomicInteger();

		@StreamHandler
		void handle(LeasedStream stream) {
			this.calls.incrementAndGet();
			throw new IllegalArgumentException("invalid input");
		}

	}

	static class FailingOnTwo {

		final List<String> seen = new CopyOnWriteArrayList<>();

		@StreamHandler
		void handle(StreamEntry entry) {
			this.seen.add(entry.field("n"));
			if ("2".equals(entry.field("n"))) {
				throw new IllegalStateException("cannot take 2");
			}
		}

	}

	static class Sleeping {

		final List<String> interrupted = new CopyOnWriteArrayList<>();

		final List<String> completed = new CopyOnWriteArrayList<>();

		@Value("${sleep.millis:60000}")
		long millis;

		@StreamHandler(id = "sleeper")
		void handle(LeasedStream stream) {
			try {
				Thread.sleep(this.millis);
				this.completed.add(stream.name());
			}
			catch (InterruptedException ex) {
				// returns normally, as a handler that swallows the interrupt would: still a timeout
				this.interrupted.add(stream.name());
			}
		}

	}

	static class NeverCompleting {

		final List<CompletableFuture<Void>> futures = new CopyOnWriteArrayList<>();

		@StreamHandler
		CompletableFuture<Void> handle(LeasedStream stream) {
			CompletableFuture<Void> future = new CompletableFuture<>();
			this.futures.add(future);
			return future;
		}

	}

	static class StuckOnceOnTwo {

		final Map<String, String> result = new ConcurrentHashMap<>();

		final AtomicInteger interrupted = new AtomicInteger();

		@StreamHandler
		void handle(StreamEntry entry, StreamState state) throws InterruptedException {
			if (entry.field("end") != null) {
				this.result.put(entry.stream(), state.get("seen"));
				state.complete();
				return;
			}
			if ("2".equals(entry.field("n")) && this.interrupted.get() == 0) {
				try {
					Thread.sleep(60_000);
				}
				catch (InterruptedException ex) {
					this.interrupted.incrementAndGet();
					throw ex;
				}
			}
			String seen = state.get("seen");
			state.put("seen", (seen == null) ? entry.field("n") : seen + "," + entry.field("n"));
		}

	}

	static class CappedBlocking {

		final List<String> started = new CopyOnWriteArrayList<>();

		@StreamHandler(maxConcurrentStreams = "2")
		void handle(LeasedStream stream) throws InterruptedException {
			this.started.add(stream.name());
			Thread.sleep(60_000);
		}

	}

	static class BadOverride {

		@StreamHandler(maxAttempts = "many")
		void handle(LeasedStream stream) {
		}

	}

}
