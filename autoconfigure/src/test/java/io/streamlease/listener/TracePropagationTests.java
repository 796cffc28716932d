package io.streamlease.listener;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import brave.Tracing;
import brave.propagation.ThreadLocalCurrentTraceContext;
import brave.sampler.Sampler;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.brave.bridge.W3CPropagation;
import io.micrometer.tracing.exporter.FinishedSpan;
import io.micrometer.tracing.test.reporter.BuildingBlocks;
import io.micrometer.tracing.test.reporter.inmemory.InMemoryBraveSetup;
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
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One trace from {@link StreamLeaseTemplate#submit} to the handler, on a real Redis, with Micrometer's in-memory
 * Brave tracer (micrometer-tracing-integration-test): the template's producer span writes the trace context into
 * the entry's Info, the handler's consumer span continues it as a child. With W3C propagation (Spring Boot's
 * default) the key is {@code traceparent}, and a {@code traceparent} written by another producer (redis-cli, Go) is
 * continued too; with B3 the same works through B3's keys.
 */
class TracePropagationTests {

	/** Observation is off by default (as spring-kafka's listener observation). */
	private static final String ON = "stream-lease.observation.enabled=true";

	@SharedRedisServer
	static RedisServer redis;

	@Test
	void aSubmissionAndItsHandlerRunAreOneTraceCarriedByTraceparentInTheInfo() {
		traced(w3c(), (buildingBlocks, context, service) -> {
			Traced handler = context.getBean(Traced.class);
			String traceId = submitInRootSpan(buildingBlocks, context, "submitted");
			FinishedSpan consumer = awaitSpan(buildingBlocks, service + " process", "submitted");
			FinishedSpan producer = awaitSpan(buildingBlocks, service + " submit", "submitted");
			assertThat(producer.getKind()).isEqualTo(Span.Kind.PRODUCER);
			assertThat(consumer.getKind()).isEqualTo(Span.Kind.CONSUMER);
			assertThat(producer.getTraceId()).isEqualTo(traceId);
			assertThat(consumer.getTraceId()).isEqualTo(traceId);
			assertThat(consumer.getParentId()).isEqualTo(producer.getSpanId());
			assertThat(consumer.getTags()).containsEntry("service", service)
				.containsEntry("handler", Traced.ID)
				.containsEntry("mode", "stream")
				.containsEntry("outcome", "success")
				.containsEntry("stream", "submitted");
			assertThat(producer.getTags()).containsEntry("service", service).containsEntry("stream", "submitted");
			// the documented key, next to the producer's own Info, readable by any client
			assertThat(handler.info.get("submitted")).containsEntry("tenant", "acme");
			assertThat(handler.info.get("submitted").get("traceparent")).asString()
				.matches("00-" + traceId + "-" + producer.getSpanId() + "-01");
		}, ON);
	}

	@Test
	void aTraceparentWrittenByAnotherProducerIsContinued() {
		traced(w3c(), (buildingBlocks, context, service) -> {
			String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
			redis.command("XADD", service + "-input", "*", "lbs-input", "{\"DataStreamName\": \"from-redis-cli\", "
					+ "\"Info\": {\"traceparent\": \"00-" + traceId + "-00f067aa0ba902b7-01\"}}");
			FinishedSpan consumer = awaitSpan(buildingBlocks, service + " process", "from-redis-cli");
			assertThat(consumer.getTraceId()).isEqualTo(traceId);
			assertThat(consumer.getParentId()).isEqualTo("00f067aa0ba902b7");
		}, ON);
	}

	@Test
	void anEntryLevelHandlerGetsOneSpanPerEntryInTheProducersTrace() {
		traced(w3c(), TracedEntries.class, (buildingBlocks, context, service) -> {
			for (int i = 1; i <= 3; i++) {
				redis.command("XADD", "entries-" + service, "*", "n", Integer.toString(i));
			}
			redis.command("XADD", "entries-" + service, "*", "end", "1");
			String traceId = submitInRootSpan(buildingBlocks, context, "entries-" + service);
			FinishedSpan producer = awaitSpan(buildingBlocks, service + " submit", "entries-" + service);
			await().atMost(Duration.ofSeconds(10))
				.until(() -> buildingBlocks.getFinishedSpans()
					.stream()
					.filter((span) -> span.getName().equals(service + " process"))
					.count() == 4);
			assertThat(buildingBlocks.getFinishedSpans()).filteredOn((span) -> span.getName().equals(service + " process"))
				.allSatisfy((span) -> {
					assertThat(span.getTraceId()).isEqualTo(traceId);
					assertThat(span.getParentId()).isEqualTo(producer.getSpanId());
					assertThat(span.getTags()).containsEntry("mode", "entry").containsKey("entry");
				});
		}, ON);
	}

	@Test
	void anotherPropagationFormatIsCarriedTheSameWay() {
		// Brave's own default, B3: the keys are the propagator's, not fixed by Stream Lease
		traced(InMemoryBraveSetup.builder(), (buildingBlocks, context, service) -> {
			String traceId = submitInRootSpan(buildingBlocks, context, "b3");
			FinishedSpan consumer = awaitSpan(buildingBlocks, service + " process", "b3");
			assertThat(consumer.getTraceId()).isEqualTo(traceId);
			assertThat(context.getBean(Traced.class).info.get("b3")).doesNotContainKey("traceparent");
		}, ON);
	}

	@Test
	void nothingIsObservedNorWrittenIntoTheInfoUnlessObservationIsOn() {
		traced(w3c(), (buildingBlocks, context, service) -> {
			submitInRootSpan(buildingBlocks, context, "unobserved");
			Traced handler = context.getBean(Traced.class);
			await().atMost(Duration.ofSeconds(10)).until(() -> handler.info.containsKey("unobserved"));
			assertThat(handler.info.get("unobserved")).containsOnlyKeys("tenant");
			assertThat(buildingBlocks.getFinishedSpans()).noneMatch((span) -> span.getName().startsWith(service));
		});
	}

	private interface TracedTest {

		void run(BuildingBlocks buildingBlocks, AssertableApplicationContext context, String service) throws Exception;

	}

	private static InMemoryBraveSetup.Builder w3c() {
		return InMemoryBraveSetup.builder()
			.tracing((spans) -> Tracing.newBuilder()
				.addSpanHandler(spans)
				.currentTraceContext(ThreadLocalCurrentTraceContext.create())
				.sampler(Sampler.ALWAYS_SAMPLE)
				.traceId128Bit(true)
				.propagationFactory(new W3CPropagation())
				.build());
	}

	private static void traced(InMemoryBraveSetup.Builder tracing, TracedTest test, String... properties) {
		traced(tracing, Traced.class, test, properties);
	}

	private static void traced(InMemoryBraveSetup.Builder tracing, Class<?> handler, TracedTest test,
			String... properties) {
		String service = RedisServerExtension.uniqueName("traced");
		ObservationRegistry registry = ObservationRegistry.create();
		InMemoryBraveSetup setup = tracing.register(registry);
		Consumer<InMemoryBraveSetup.Builder.BraveBuildingBlocks> body = (buildingBlocks) -> new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withBean(ObservationRegistry.class, () -> registry)
			.withBean(handler)
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=2s")
			.withPropertyValues(properties)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				test.run(buildingBlocks, context, service);
			});
		InMemoryBraveSetup.run(setup, body);
	}

	/** Submits within a root observation of the test, as application code would; returns its trace id. */
	private static String submitInRootSpan(BuildingBlocks buildingBlocks, AssertableApplicationContext context,
			String stream) {
		Observation root = Observation.start("test-root", context.getBean(ObservationRegistry.class));
		try (Observation.Scope scope = root.openScope()) {
			context.getBean(StreamLeaseTemplate.class).submit(stream, Map.of("tenant", "acme"));
			return buildingBlocks.getTracer().currentSpan().context().traceId();
		}
		finally {
			root.stop();
		}
	}

	private static FinishedSpan awaitSpan(BuildingBlocks buildingBlocks, String name, String stream) {
		await().atMost(Duration.ofSeconds(10)).until(() -> find(buildingBlocks.getFinishedSpans(), name, stream) != null);
		return find(buildingBlocks.getFinishedSpans(), name, stream);
	}

	private static FinishedSpan find(List<FinishedSpan> spans, String name, String stream) {
		for (FinishedSpan span : spans) {
			if (name.equals(span.getName()) && stream.equals(span.getTags().get("stream"))) {
				return span;
			}
		}
		return null;
	}

	static class TracedEntries {

		@StreamHandler
		void handle(StreamEntry entry, StreamState state) {
			if (entry.fields().containsKey("end")) {
				state.complete();
			}
		}

	}

	static class Traced {

		static final String ID = "traced";

		final Map<String, Map<String, Object>> info = new ConcurrentHashMap<>();

		@StreamHandler(id = ID)
		void handle(LeasedStream stream) {
			this.info.put(stream.name(), stream.info());
		}

	}

}
