package io.streamlease.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;
import org.springframework.boot.actuate.autoconfigure.endpoint.jackson.JacksonEndpointAutoConfiguration;
import org.springframework.boot.actuate.endpoint.InvocationContext;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.jackson.EndpointJsonMapper;
import org.springframework.boot.actuate.endpoint.invoke.convert.ConversionServiceParameterValueMapper;
import org.springframework.boot.actuate.endpoint.web.EndpointMediaTypes;
import org.springframework.boot.actuate.endpoint.web.ExposableWebEndpoint;
import org.springframework.boot.actuate.endpoint.web.WebEndpointHttpMethod;
import org.springframework.boot.actuate.endpoint.web.WebOperation;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpointDiscoverer;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The {@code streams} actuator endpoint: when it is available, and the JSON it returns for real engines.
 */
class StreamsEndpointAutoConfigurationTests {

	@SharedRedisServer
	private static RedisServer redis;

	private static RedissonClient applicationRedisson;

	@BeforeAll
	static void createApplicationRedisson() {
		Config config = new Config();
		config.useSingleServer().setAddress(redis.uri());
		applicationRedisson = Redisson.create(config);
	}

	@AfterAll
	static void shutDownApplicationRedisson() {
		if (applicationRedisson != null) {
			applicationRedisson.shutdown();
		}
	}

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner()
			// as in an application: lenient conversion of values such as access=none
			.withInitializer((context) -> context.getEnvironment().setConversionService(new ApplicationConversionService()))
			.withConfiguration(
					AutoConfigurations.of(StreamLeaseAutoConfiguration.class, StreamsEndpointAutoConfiguration.class,
					JacksonEndpointAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.consumer-id=" + service + "-pod",
					"stream-lease.hb-interval=2s", "stream-lease.shutdown.grace-period=200ms");
	}

	private ApplicationContextRunner withoutHandlers() {
		return runner("endpoint").withBean(RedissonClient.class, () -> applicationRedisson);
	}

	// ---- on and off

	@Test
	void isNotAvailableUnlessExposed() {
		withoutHandlers().run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(StreamsEndpoint.class));
	}

	@Test
	void isAvailableWhenExposedOverTheWeb() {
		withoutHandlers().withPropertyValues("management.endpoints.web.exposure.include=streams")
			.run((context) -> assertThat(context).hasSingleBean(StreamsEndpoint.class));
	}

	@Test
	void isNotAvailableWhenItsAccessIsNone() {
		withoutHandlers()
			.withPropertyValues("management.endpoints.web.exposure.include=streams", "management.endpoint.streams.access=none")
			.run((context) -> assertThat(context).doesNotHaveBean(StreamsEndpoint.class));
	}

	@Test
	void isNotAvailableWithoutTheActuator() {
		withoutHandlers().withPropertyValues("management.endpoints.web.exposure.include=streams")
			.withClassLoader(new FilteredClassLoader(Endpoint.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.hasSingleBean(StreamHandlerEndpointRegistry.class)
				.doesNotHaveBean(StreamsEndpoint.class));
	}

	@Test
	void isNotAvailableWhenStreamLeaseIsDisabled() {
		withoutHandlers().withPropertyValues("management.endpoints.web.exposure.include=streams", "stream-lease.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed().doesNotHaveBean(StreamsEndpoint.class));
	}

	@Test
	void backsOffForTheApplicationsEndpoint() {
		withoutHandlers().withPropertyValues("management.endpoints.web.exposure.include=streams")
			.withBean("customStreamsEndpoint", StreamsEndpoint.class,
					() -> new StreamsEndpoint(new StreamHandlerEndpointRegistry(null, null, null, null), "custom"))
			.run((context) -> {
				assertThat(context).hasSingleBean(StreamsEndpoint.class);
				assertThat(context.getBean(StreamsEndpoint.class).streams().consumerId()).isEqualTo("custom");
			});
	}

	@Test
	void showsTheConfiguredConsumerIdAndNoServicesWithoutHandlers() {
		withoutHandlers().withPropertyValues("management.endpoints.web.exposure.include=streams").run((context) -> {
			JsonNode json = json(context);
			assertThat(json.path("consumerId").asString()).isEqualTo("endpoint-pod");
			assertThat(json.path("services").isObject()).isTrue();
			assertThat(json.path("services").size()).isZero();
		});
	}

	@Test
	void isDiscoveredByTheActuatorAsAGetOperationAtStreamsAndAPostOperationPerService() {
		withoutHandlers().withPropertyValues("management.endpoints.web.exposure.include=streams").run((context) -> {
			WebEndpointDiscoverer discoverer = new WebEndpointDiscoverer(context, new ConversionServiceParameterValueMapper(),
					EndpointMediaTypes.DEFAULT, List.of(), List.of(), List.of(), List.of(), List.of());
			ExposableWebEndpoint streams = discoverer.getEndpoints()
				.stream()
				.filter((endpoint) -> endpoint.getEndpointId().toString().equals("streams"))
				.findFirst()
				.orElseThrow();
			assertThat(streams.getOperations()).hasSize(2);
			WebOperation read = streams.getOperations()
				.stream()
				.filter((operation) -> operation.getRequestPredicate().getHttpMethod() == WebEndpointHttpMethod.GET)
				.findFirst()
				.orElseThrow();
			assertThat(read.getRequestPredicate().getPath()).isEqualTo("streams");
			WebOperation write = streams.getOperations()
				.stream()
				.filter((operation) -> operation != read)
				.findFirst()
				.orElseThrow();
			assertThat(write.getRequestPredicate().getHttpMethod()).isEqualTo(WebEndpointHttpMethod.POST);
			assertThat(write.getRequestPredicate().getPath()).isEqualTo("streams/{service}");
			Object result = read.invoke(new InvocationContext(SecurityContext.NONE, Map.of()));
			assertThat(result).isInstanceOf(StreamsEndpoint.StreamsDescriptor.class);
		});
	}

	// ---- real engines

	@Test
	void listsTheHeldStreamsAndTheCountersOfEachService() {
		String service = "endpoint-held";
		runner(service).withBean(HoldingHandler.class)
			.withPropertyValues("management.endpoints.web.exposure.include=streams")
			.run((context) -> {
				assertThat(context).hasNotFailed();
				HoldingHandler handler = context.getBean(HoldingHandler.class);
				StreamLeaseTemplate template = context.getBean(StreamLeaseTemplate.class);
				try {
					template.submit("finished-first", Map.of());
					await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("finished-first"));
					handler.release("finished-first");
					await().atMost(Duration.ofSeconds(5))
						.until(() -> json(context).at("/services/" + service + "/counters/completed").asLong() == 1);

					String lbsId = template.submit("held stream: {1}", Map.of("tenant", "acme"));
					await().atMost(Duration.ofSeconds(10)).until(() -> handler.hasStarted("held stream: {1}"));

					JsonNode json = json(context);
					assertThat(names(json)).containsExactly("consumerId", "services");
					assertThat(json.path("consumerId").asString()).isEqualTo(service + "-pod");
					assertThat(names(json.path("services"))).containsExactly(service);
					JsonNode described = json.path("services").path(service);
					assertThat(described.path("state").asString()).isEqualTo("RUNNING");
					assertThat(described.path("handler").asString()).isEqualTo(HoldingHandler.ID);
					assertThat(described.path("mode").asString()).isEqualTo("stream");
					assertThat(described.path("owned").isArray()).isTrue();
					assertThat(described.path("owned").size()).isEqualTo(1);
					JsonNode owned = described.path("owned").get(0);
					assertThat(owned.path("stream").asString()).isEqualTo("held stream: {1}");
					assertThat(owned.path("lbsId").asString()).isEqualTo(lbsId);
					assertThat(owned.path("fencingToken").isIntegralNumber()).isTrue();
					assertThat(owned.path("fencingToken").asLong()).isPositive();
					assertThat(owned.path("recovered").isBoolean()).isTrue();
					assertThat(owned.path("recovered").asBoolean()).isFalse();
					assertThat(Instant.parse(owned.path("acquiredAt").asString())).isBefore(Instant.now().plusSeconds(1));
					assertThat(owned.path("handlerRunning").asBoolean()).isTrue();
					JsonNode counters = described.path("counters");
					assertThat(names(counters)).contains("added", "claimed", "completed", "disowned", "handedOff",
							"deadLettered");
					assertThat(counters.path("added").asLong()).isEqualTo(2);
					assertThat(counters.path("completed").asLong()).isEqualTo(1);
					assertThat(counters.path("claimed").asLong()).isZero();
					assertThat(counters.path("disowned").asLong()).isZero();
					assertThat(counters.path("handedOff").asLong()).isZero();
					assertThat(counters.path("deadLettered").asLong()).isZero();
				}
				finally {
					handler.releaseAll();
				}
				await().atMost(Duration.ofSeconds(5))
					.until(() -> json(context).at("/services/" + service + "/owned").isEmpty());
			});
	}

	/** The endpoint's response as the actuator writes it (with its own JSON mapper). */
	private static JsonNode json(ApplicationContext context) {
		JsonMapper mapper = context.getBean(EndpointJsonMapper.class).get();
		return mapper.readTree(mapper.writeValueAsString(context.getBean(StreamsEndpoint.class).streams()));
	}

	private static List<String> names(JsonNode node) {
		List<String> names = new ArrayList<>();
		node.propertyNames().forEach(names::add);
		return names;
	}

}
