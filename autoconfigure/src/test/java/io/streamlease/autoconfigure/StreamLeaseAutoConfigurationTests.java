package io.streamlease.autoconfigure;

import java.beans.PropertyDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import io.streamlease.annotation.StreamHandlerAnnotationBeanPostProcessor;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.KeyspaceNotifications;
import io.streamlease.engine.RebalanceSettings;
import io.streamlease.listener.ContainerSettings;
import io.streamlease.listener.DefaultStreamErrorHandler;
import io.streamlease.listener.StreamHandlerErrorHandler;
import io.streamlease.listener.EngineMetricsFactory;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.listener.StreamLeaseEngineFactory;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;
import org.redisson.config.Config;
import org.springframework.beans.BeanUtils;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.RedisConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.messaging.handler.annotation.support.MessageHandlerMethodFactory;
import org.springframework.util.unit.DataSize;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The core auto-configuration: its beans, the binding and validation of every property, backing off for the
 * application's beans and missing classes, and the engine's Redis client next to the application's own.
 */
class StreamLeaseAutoConfigurationTests {

	@SharedRedisServer
	private static RedisServer redis;

	/** The application's own client, in the tests that define one. */
	private static RedissonClient applicationRedisson;

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
		.withPropertyValues("spring.application.name=orders", "spring.data.redis.host=127.0.0.1",
				"spring.data.redis.port=" + redis.port());

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

	/** The runner with an application RedissonClient, so that no client is built (for contexts that fail). */
	private ApplicationContextRunner withApplicationRedisson() {
		return this.runner.withBean(RedissonClient.class, () -> applicationRedisson);
	}

	// ---- defaults

	@Test
	void createsTheRegistryTemplateEngineFactoryHandlerMethodFactoryAndAClientKeptToItself() {
		RedissonClient[] created = new RedissonClient[1];
		this.runner.run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context).hasSingleBean(StreamHandlerEndpointRegistry.class)
				.hasSingleBean(StreamLeaseTemplate.class)
				.hasSingleBean(StreamLeaseEngineFactory.class)
				.hasSingleBean(StreamHandlerAnnotationBeanPostProcessor.class)
				.hasSingleBean(StreamLeaseProperties.class)
				.hasSingleBean(StreamLeaseRedis.class)
				.doesNotHaveBean(RedissonClient.class)
				.doesNotHaveBean(EngineMetricsFactory.class);
			assertThat(context.getBean(StreamLeaseRedis.class).isOwned()).isTrue();
			assertThat(context.getBean(StreamHandlerAnnotationBeanPostProcessor.HANDLER_METHOD_FACTORY_BEAN_NAME))
				.isInstanceOf(MessageHandlerMethodFactory.class);
			assertThat(context.getBean(StreamLeaseTemplate.class).getDefaultService()).isEqualTo("orders");
			created[0] = context.getBean(StreamLeaseRedis.class).getClient();
			created[0].getBucket("defaults:probe", StringCodec.INSTANCE).set("written by the engine's client");
			assertThat(redis.command("EXISTS", "defaults:probe")).isEqualTo(1L);
		});
		assertThat(created[0].isShutdown()).as("the client built by the starter is shut down with the context").isTrue();
	}

	@Test
	void buildsALeaseClientAndADataClientAndShutsBothDownWithTheContext() {
		RedissonClient[] clients = new RedissonClient[2];
		this.runner.run((context) -> {
			StreamLeaseRedis redis = context.getBean(StreamLeaseRedis.class);
			clients[0] = redis.getLeaseClient();
			clients[1] = redis.getDataClient();
			assertThat(clients[0]).isNotSameAs(clients[1]);
			assertThat(redis.getClient()).as("the application's data goes to the data client").isSameAs(clients[1]);
			assertThat(context.getBean(StreamLeaseTemplate.class)).isNotNull();
		});
		assertThat(clients[0].isShutdown()).isTrue();
		assertThat(clients[1].isShutdown()).isTrue();
	}

	@Test
	void capsMaxConcurrentStreamsAtWhatTheHandlerCanProcess() {
		this.runner.withPropertyValues("stream-lease.max-concurrent-streams=500").run((context) -> {
			StreamLeasePropertiesMapper mapper = context.getBean(StreamLeasePropertiesMapper.class);
			assertThat(mapper.engineSettings("orders", 64).maxConcurrentStreams()).isEqualTo(64);
			assertThat(mapper.engineSettings("orders", 800).maxConcurrentStreams()).isEqualTo(500);
			assertThat(mapper.engineSettings("orders", Integer.MAX_VALUE).maxConcurrentStreams()).isEqualTo(500);
			assertThat(mapper.engineSettings("orders").maxConcurrentStreams()).isEqualTo(500);
		});
	}

	@Test
	void defaultsFollowTheSpecification() {
		this.runner.run((context) -> {
			StreamLeasePropertiesMapper mapper = context.getBean(StreamLeasePropertiesMapper.class);
			EngineSettings engine = mapper.engineSettings("orders");
			assertThat(engine.hbInterval()).isEqualTo(Duration.ofSeconds(10));
			assertThat(engine.outputChannelSize()).isEqualTo(500);
			assertThat(engine.brokerInputSize()).isEqualTo(500);
			assertThat(engine.keyspaceChannelSize()).isEqualTo(100);
			assertThat(engine.lbsIdleTime()).isEqualTo(Duration.ofSeconds(40));
			assertThat(engine.lbsRecoveryCount()).isEqualTo(1000);
			assertThat(engine.retry().maxRetries()).as("a transient fault never ends an engine").isEqualTo(-1);
			assertThat(engine.retry().initialDelay()).isEqualTo(Duration.ofMillis(100));
			assertThat(engine.retry().maxDelay()).isEqualTo(Duration.ofSeconds(30));
			assertThat(engine.renewalTimeout()).isEqualTo(Duration.ofMillis(1250));
			assertThat(engine.startupTimeout()).isEqualTo(Duration.ofSeconds(20));
			assertThat(engine.failFast()).isFalse();
			assertThat(engine.keyspaceNotifications()).isEqualTo(KeyspaceNotifications.AUTO);
			assertThat(engine.sweepInterval()).isPositive().isLessThan(engine.hbInterval());
			assertThat(engine.autoClaim()).isTrue();
			assertThat(engine.handoffOnClose()).isTrue();
			ContainerSettings container = mapper.containerSettings();
			assertThat(container.gracePeriod()).isEqualTo(Duration.ofSeconds(10));
			assertThat(container.maxAttempts()).isEqualTo(3);
			assertThat(container.changeNotifications()).isTrue();
			assertThat(container.safetyPollInterval()).isEqualTo(Duration.ofSeconds(30));
			assertThat(container.maxInFlightReads()).isEqualTo(4);
			assertThat(container.maxInFlightCheckpoints()).isEqualTo(16);
			assertThat(container.handlerTimeout()).as("no handler timeout by default").isNull();
			assertThat(mapper.consumerId()).isNotBlank();
		});
	}

	@Test
	void theConsumerIdDefaultsToPodNameThenPodIpThenHostPidAndASuffix() {
		assertThat(StreamLeasePropertiesMapper.defaultConsumerId(Map.of("POD_NAME", "web-0", "POD_IP", "10.0.0.7")::get))
			.isEqualTo("web-0");
		assertThat(StreamLeasePropertiesMapper.defaultConsumerId(Map.of("POD_IP", "10.0.0.7")::get)).isEqualTo("10.0.0.7");
		String first = StreamLeasePropertiesMapper.defaultConsumerId((name) -> null);
		String second = StreamLeasePropertiesMapper.defaultConsumerId((name) -> null);
		assertThat(first).contains("-" + ProcessHandle.current().pid() + "-").isNotEqualTo(second);
	}

	// ---- binding

	private static final Map<String, String> EVERY_PROPERTY = everyProperty();

	private static Map<String, String> everyProperty() {
		Map<String, String> values = new LinkedHashMap<>();
		values.put("enabled", "true");
		values.put("service-name", "billing");
		values.put("consumer-id", "pod-9");
		values.put("hb-interval", "15s");
		values.put("output-channel-size", "11");
		values.put("broker-input-size", "12");
		values.put("keyspace-channel-size", "13");
		values.put("lbs-idle-time", "45s");
		values.put("lbs-recovery-count", "14");
		values.put("keyspace-notifications", "off");
		values.put("max-concurrent-streams", "15");
		values.put("sweep-interval", "3s");
		values.put("auto-claim", "false");
		values.put("read-batch-size", "16");
		values.put("renewal-chunk-size", "17");
		values.put("claim-stagger", "70ms");
		values.put("max-entry-size", "64KB");
		values.put("dead-letter-max-length", "18");
		values.put("checkpoint-retention", "2h");
		values.put("retry.max-retries", "7");
		values.put("retry.initial-delay", "200ms");
		values.put("retry.max-delay", "5s");
		values.put("handler.max-attempts", "5");
		values.put("handler.initial-backoff", "1s");
		values.put("handler.max-backoff", "10s");
		values.put("handler.threads", "8");
		values.put("handler.virtual-threads", "false");
		values.put("handler.timeout", "6s");
		values.put("entry.batch-size", "19");
		values.put("entry.checkpoint-every", "20");
		values.put("entry.checkpoint-interval", "2s");
		values.put("entry.poll-interval", "100ms");
		values.put("entry.max-poll-interval", "3s");
		values.put("entry.safety-poll-interval", "40s");
		values.put("entry.max-in-flight-reads", "21");
		values.put("entry.max-in-flight-checkpoints", "22");
		values.put("shutdown.handoff", "false");
		values.put("shutdown.grace-period", "4s");
		values.put("renewal-timeout", "900ms");
		values.put("startup.fail-fast", "true");
		values.put("startup.timeout", "25s");
		values.put("observation.enabled", "true");
		values.put("rebalance.enabled", "false");
		values.put("rebalance.interval", "3s");
		values.put("rebalance.tolerance", "0.2");
		values.put("rebalance.max-fraction-per-round", "0.5");
		values.put("rebalance.max-moves-per-round", "23");
		values.put("rebalance.grace-period", "6s");
		values.put("rebalance.settle-time", "20s");
		return values;
	}

	@Test
	void bindsEveryPropertyAndMapsItToTheEngineAndTheContainers() {
		String[] pairs = EVERY_PROPERTY.entrySet()
			.stream()
			.map((entry) -> "stream-lease." + entry.getKey() + "=" + entry.getValue())
			.toArray(String[]::new);
		withApplicationRedisson().withPropertyValues(pairs).run((context) -> {
			assertThat(context).hasNotFailed();
			StreamLeaseProperties properties = context.getBean(StreamLeaseProperties.class);
			assertThat(properties.isEnabled()).isTrue();
			assertThat(properties.getServiceName()).isEqualTo("billing");
			assertThat(properties.getConsumerId()).isEqualTo("pod-9");
			assertThat(properties.getHbInterval()).isEqualTo(Duration.ofSeconds(15));
			assertThat(properties.getOutputChannelSize()).isEqualTo(11);
			assertThat(properties.getBrokerInputSize()).isEqualTo(12);
			assertThat(properties.getKeyspaceChannelSize()).isEqualTo(13);
			assertThat(properties.getLbsIdleTime()).isEqualTo(Duration.ofSeconds(45));
			assertThat(properties.getLbsRecoveryCount()).isEqualTo(14);
			assertThat(properties.getKeyspaceNotifications()).isEqualTo(KeyspaceNotifications.OFF);
			assertThat(properties.getMaxConcurrentStreams()).isEqualTo(15);
			assertThat(properties.getSweepInterval()).isEqualTo(Duration.ofSeconds(3));
			assertThat(properties.isAutoClaim()).isFalse();
			assertThat(properties.getReadBatchSize()).isEqualTo(16);
			assertThat(properties.getRenewalChunkSize()).isEqualTo(17);
			assertThat(properties.getClaimStagger()).isEqualTo(Duration.ofMillis(70));
			assertThat(properties.getMaxEntrySize()).isEqualTo(DataSize.ofKilobytes(64));
			assertThat(properties.getDeadLetterMaxLength()).isEqualTo(18);
			assertThat(properties.getCheckpointRetention()).isEqualTo(Duration.ofHours(2));
			assertThat(properties.getRetry().getMaxRetries()).isEqualTo(7);
			assertThat(properties.getRetry().getInitialDelay()).isEqualTo(Duration.ofMillis(200));
			assertThat(properties.getRetry().getMaxDelay()).isEqualTo(Duration.ofSeconds(5));
			assertThat(properties.getHandler().getMaxAttempts()).isEqualTo(5);
			assertThat(properties.getHandler().getInitialBackoff()).isEqualTo(Duration.ofSeconds(1));
			assertThat(properties.getHandler().getMaxBackoff()).isEqualTo(Duration.ofSeconds(10));
			assertThat(properties.getHandler().getThreads()).isEqualTo(8);
			assertThat(properties.getHandler().isVirtualThreads()).isFalse();
			assertThat(properties.getEntry().getBatchSize()).isEqualTo(19);
			assertThat(properties.getEntry().getCheckpointEvery()).isEqualTo(20);
			assertThat(properties.getEntry().getCheckpointInterval()).isEqualTo(Duration.ofSeconds(2));
			assertThat(properties.getEntry().getPollInterval()).isEqualTo(Duration.ofMillis(100));
			assertThat(properties.getEntry().getMaxPollInterval()).isEqualTo(Duration.ofSeconds(3));
			assertThat(properties.getEntry().getSafetyPollInterval()).isEqualTo(Duration.ofSeconds(40));
			assertThat(properties.getEntry().getMaxInFlightReads()).isEqualTo(21);
			assertThat(properties.getEntry().getMaxInFlightCheckpoints()).isEqualTo(22);
			assertThat(properties.getShutdown().isHandoff()).isFalse();
			assertThat(properties.getShutdown().getGracePeriod()).isEqualTo(Duration.ofSeconds(4));
			assertThat(properties.getRenewalTimeout()).isEqualTo(Duration.ofMillis(900));
			assertThat(properties.getStartup().isFailFast()).isTrue();
			assertThat(properties.getStartup().getTimeout()).isEqualTo(Duration.ofSeconds(25));
			assertThat(properties.getObservation().isEnabled()).isTrue();

			StreamLeasePropertiesMapper mapper = context.getBean(StreamLeasePropertiesMapper.class);
			assertThat(mapper.defaultService()).isEqualTo("billing");
			assertThat(mapper.consumerId()).isEqualTo("pod-9");
			assertThat(context.getBean(StreamLeaseTemplate.class).getDefaultService()).isEqualTo("billing");
			EngineSettings engine = mapper.engineSettings("billing");
			assertThat(engine.serviceName()).isEqualTo("billing");
			assertThat(engine.consumerId()).isEqualTo("pod-9");
			assertThat(engine.hbInterval()).isEqualTo(Duration.ofSeconds(15));
			assertThat(engine.outputChannelSize()).isEqualTo(11);
			assertThat(engine.brokerInputSize()).isEqualTo(12);
			assertThat(engine.keyspaceChannelSize()).isEqualTo(13);
			assertThat(engine.lbsIdleTime()).isEqualTo(Duration.ofSeconds(45));
			assertThat(engine.lbsRecoveryCount()).isEqualTo(14);
			assertThat(engine.keyspaceNotifications()).isEqualTo(KeyspaceNotifications.OFF);
			assertThat(engine.maxConcurrentStreams()).isEqualTo(15);
			assertThat(engine.sweepInterval()).isEqualTo(Duration.ofSeconds(3));
			assertThat(engine.autoClaim()).isFalse();
			assertThat(engine.handoffOnClose()).isFalse();
			assertThat(engine.readBatchSize()).isEqualTo(16);
			assertThat(engine.claimStagger()).isEqualTo(Duration.ofMillis(70));
			assertThat(engine.maxEntrySize()).isEqualTo(64 * 1024);
			assertThat(engine.deadLetterMaxLength()).isEqualTo(18);
			assertThat(engine.checkpointRetention()).isEqualTo(Duration.ofHours(2));
			assertThat(engine.retry().maxRetries()).isEqualTo(7);
			assertThat(engine.retry().initialDelay()).isEqualTo(Duration.ofMillis(200));
			assertThat(engine.renewalTimeout()).isEqualTo(Duration.ofMillis(900));
			assertThat(engine.startupTimeout()).isEqualTo(Duration.ofSeconds(25));
			assertThat(engine.failFast()).isTrue();
			assertThat(engine.retry().maxDelay()).isEqualTo(Duration.ofSeconds(5));
			assertThat(engine.rebalance()).isEqualTo(new RebalanceSettings(false, Duration.ofSeconds(3), 0.2, 0.5, 23,
					Duration.ofSeconds(6), Duration.ofSeconds(20)));
			assertThat(engine.rebalanceInterval()).isEqualTo(Duration.ofSeconds(3));
			assertThat(engine.rebalanceSettleTime()).isEqualTo(Duration.ofSeconds(20));
			assertThat(mapper.containerSettings()).isEqualTo(new ContainerSettings(5, Duration.ofSeconds(1),
					Duration.ofSeconds(10), 19, 20, Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofSeconds(3),
					Duration.ofSeconds(4), 8, false, false, Duration.ofSeconds(40), 21, 22, Duration.ofSeconds(6)));
		});
	}

	@Test
	void theBindingTestCoversEveryProperty() {
		assertThat(EVERY_PROPERTY.keySet()).containsExactlyInAnyOrderElementsOf(propertyNames(StreamLeaseProperties.class, ""));
	}

	@Test
	void everyPropertyHasADescriptionInTheGeneratedMetadata() throws IOException {
		JsonNode metadata;
		try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("metadata generated by spring-boot-configuration-processor").isNotNull();
			metadata = JsonMapper.builder().build().readTree(in);
		}
		Map<String, String> descriptions = new LinkedHashMap<>();
		for (JsonNode property : metadata.path("properties")) {
			String name = property.path("name").asString();
			if (name.startsWith("stream-lease.")) {
				descriptions.put(name.substring("stream-lease.".length()), property.path("description").asString(""));
			}
		}
		assertThat(descriptions.keySet()).containsExactlyInAnyOrderElementsOf(EVERY_PROPERTY.keySet());
		assertThat(descriptions).allSatisfy((name, description) -> assertThat(description).as(name).isNotBlank());
	}

	private static Set<String> propertyNames(Class<?> type, String prefix) {
		Set<String> names = new TreeSet<>();
		for (PropertyDescriptor descriptor : BeanUtils.getPropertyDescriptors(type)) {
			if (descriptor.getName().equals("class")) {
				continue;
			}
			String name = prefix + descriptor.getName().replaceAll("([A-Z])", "-$1").toLowerCase();
			Class<?> propertyType = descriptor.getPropertyType();
			if (propertyType.getDeclaringClass() == StreamLeaseProperties.class && !propertyType.isEnum()) {
				names.addAll(propertyNames(propertyType, name + "."));
			}
			else {
				names.add(name);
			}
		}
		return names;
	}

	// ---- validation

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', textBlock = """
			stream-lease.hb-interval=0s                  | stream-lease.hb-interval
			stream-lease.hb-interval=-5s                 | stream-lease.hb-interval
			stream-lease.hb-interval=5ms                 | stream-lease.hb-interval
			stream-lease.output-channel-size=0           | stream-lease.output-channel-size
			stream-lease.broker-input-size=0             | stream-lease.broker-input-size
			stream-lease.keyspace-channel-size=-1        | stream-lease.keyspace-channel-size
			stream-lease.lbs-idle-time=20s               | stream-lease.lbs-idle-time
			stream-lease.lbs-recovery-count=0            | stream-lease.lbs-recovery-count
			stream-lease.retry.max-retries=-2            | stream-lease.retry.max-retries
			stream-lease.retry.initial-delay=0ms         | stream-lease.retry.initial-delay
			stream-lease.retry.initial-delay=1m          | stream-lease.retry.initial-delay
			stream-lease.retry.max-delay=0s              | stream-lease.retry.max-delay
			stream-lease.max-concurrent-streams=0        | stream-lease.max-concurrent-streams
			stream-lease.sweep-interval=0s               | stream-lease.sweep-interval
			stream-lease.read-batch-size=0               | stream-lease.read-batch-size
			stream-lease.claim-stagger=-1ms              | stream-lease.claim-stagger
			stream-lease.max-entry-size=0B               | stream-lease.max-entry-size
			stream-lease.max-entry-size=3GB              | stream-lease.max-entry-size
			stream-lease.dead-letter-max-length=0        | stream-lease.dead-letter-max-length
			stream-lease.checkpoint-retention=-1s        | stream-lease.checkpoint-retention
			stream-lease.handler.max-attempts=0          | stream-lease.handler.max-attempts
			stream-lease.handler.initial-backoff=0s      | stream-lease.handler.initial-backoff
			stream-lease.handler.initial-backoff=1m      | stream-lease.handler.initial-backoff
			stream-lease.handler.max-backoff=0s          | stream-lease.handler.max-backoff
			stream-lease.handler.threads=0               | stream-lease.handler.threads
			stream-lease.handler.timeout=0s              | stream-lease.handler.timeout
			stream-lease.entry.batch-size=0              | stream-lease.entry.batch-size
			stream-lease.entry.checkpoint-every=0        | stream-lease.entry.checkpoint-every
			stream-lease.entry.checkpoint-interval=0s    | stream-lease.entry.checkpoint-interval
			stream-lease.entry.poll-interval=0s          | stream-lease.entry.poll-interval
			stream-lease.entry.poll-interval=2s          | stream-lease.entry.poll-interval
			stream-lease.entry.max-poll-interval=0s      | stream-lease.entry.max-poll-interval
			stream-lease.entry.safety-poll-interval=0s   | stream-lease.entry.safety-poll-interval
			stream-lease.entry.max-in-flight-reads=0     | stream-lease.entry.max-in-flight-reads
			stream-lease.entry.max-in-flight-checkpoints=0 | stream-lease.entry.max-in-flight-checkpoints
			stream-lease.shutdown.grace-period=-1s       | stream-lease.shutdown.grace-period
			stream-lease.rebalance.interval=0s           | stream-lease.rebalance.interval
			stream-lease.rebalance.tolerance=-0.1        | stream-lease.rebalance.tolerance
			stream-lease.rebalance.max-fraction-per-round=0 | stream-lease.rebalance.max-fraction-per-round
			stream-lease.rebalance.max-fraction-per-round=1.5 | stream-lease.rebalance.max-fraction-per-round
			stream-lease.rebalance.max-moves-per-round=0 | stream-lease.rebalance.max-moves-per-round
			stream-lease.rebalance.grace-period=-1s      | stream-lease.rebalance.grace-period
			stream-lease.rebalance.settle-time=-1s       | stream-lease.rebalance.settle-time
			stream-lease.service-name=or{ders}           | stream-lease.service-name
			stream-lease.consumer-id=                    | stream-lease.consumer-id
			spring.application.name={orders}             | spring.application.name
			""")
	void aBadValueFailsStartupNamingTheProperty(String property, String name) {
		withApplicationRedisson().withPropertyValues(property).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasRootCauseInstanceOf(InvalidConfigurationPropertyValueException.class);
			Throwable root = rootCause(context);
			assertThat(((InvalidConfigurationPropertyValueException) root).getName()).isEqualTo(name);
			assertThat(root.getMessage()).contains(name).contains("must");
		});
	}

	@ParameterizedTest(name = "{0}")
	@CsvSource(delimiter = '|', textBlock = """
			stream-lease.hb-interval=soon               | stream-lease.hb-interval
			stream-lease.max-concurrent-streams=many    | stream-lease.max-concurrent-streams
			stream-lease.keyspace-notifications=always  | stream-lease.keyspace-notifications
			stream-lease.max-entry-size=big             | stream-lease.max-entry-size
			""")
	void aValueOfTheWrongTypeFailsStartupNamingTheProperty(String property, String name) {
		withApplicationRedisson().withPropertyValues(property).run((context) -> {
			assertThat(context).hasFailed();
			assertThat(messages(context.getStartupFailure())).contains(name);
		});
	}

	private static Throwable rootCause(AssertableApplicationContext context) {
		Throwable failure = context.getStartupFailure();
		while (failure.getCause() != null) {
			failure = failure.getCause();
		}
		return failure;
	}

	private static String messages(Throwable failure) {
		List<String> messages = new ArrayList<>();
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			messages.add(String.valueOf(cause.getMessage()));
		}
		return String.join(" / ", messages);
	}

	// ---- backing off

	@Test
	void usesTheApplicationsRedissonClientAndBuildsNone() throws IOException {
		int closedPort = closedPort();
		this.runner.withPropertyValues("spring.data.redis.port=" + closedPort)
			.withBean("applicationRedisson", RedissonClient.class, () -> applicationRedisson)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context).hasSingleBean(RedissonClient.class);
				assertThat(context.getBean(StreamLeaseRedis.class).getClient()).isSameAs(applicationRedisson);
				assertThat(context.getBean(StreamLeaseRedis.class).isOwned()).isFalse();
				context.getBean(StreamLeaseTemplate.class).submit("s-user-client", Map.of());
				assertThat(redis.command("XLEN", "orders-input")).isEqualTo(1L);
			});
		assertThat(applicationRedisson.isShutdown()).as("the application's client is not shut down by the starter")
			.isFalse();
		redis.command("DEL", "orders-input");
	}

	@Test
	void backsOffForTheApplicationsTemplateRegistryEngineFactoryAndHandlerMethodFactory() {
		StreamLeaseTemplate template = new StreamLeaseTemplate(applicationRedisson, "custom");
		StreamLeaseEngineFactory engineFactory = (service) -> {
			throw new UnsupportedOperationException();
		};
		MessageHandlerMethodFactory methodFactory = new org.springframework.messaging.handler.annotation.support.DefaultMessageHandlerMethodFactory();
		withApplicationRedisson().withBean(StreamLeaseTemplate.class, () -> template)
			.withBean(StreamLeaseEngineFactory.class, () -> engineFactory)
			.withBean(StreamHandlerAnnotationBeanPostProcessor.HANDLER_METHOD_FACTORY_BEAN_NAME,
					MessageHandlerMethodFactory.class, () -> methodFactory)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				assertThat(context.getBean(StreamLeaseTemplate.class)).isSameAs(template);
				assertThat(context.getBean(StreamLeaseEngineFactory.class)).isSameAs(engineFactory);
				assertThat(context.getBean(StreamHandlerAnnotationBeanPostProcessor.HANDLER_METHOD_FACTORY_BEAN_NAME))
					.isSameAs(methodFactory);
			});
		StreamHandlerEndpointRegistry registry = new StreamHandlerEndpointRegistry(engineFactory,
				new ContainerSettings(1, Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 1, Duration.ofSeconds(1),
						Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ZERO, 1, false),
				applicationRedisson, null);
		withApplicationRedisson().withBean(StreamHandlerEndpointRegistry.class, () -> registry)
			.run((context) -> assertThat(context).getBean(StreamHandlerEndpointRegistry.class).isSameAs(registry));
	}

	@Test
	void theErrorHandlerIsTheDefaultPolicyOfTheHandlerPropertiesUnlessTheApplicationDefinesOne() {
		withApplicationRedisson()
			.withPropertyValues("stream-lease.handler.max-attempts=7", "stream-lease.handler.initial-backoff=2s",
					"stream-lease.handler.max-backoff=9s")
			.run((context) -> {
				assertThat(context).hasSingleBean(StreamHandlerErrorHandler.class);
				assertThat(context.getBean(StreamHandlerErrorHandler.class)).isInstanceOfSatisfying(
						DefaultStreamErrorHandler.class, (policy) -> {
							assertThat(policy.getMaxAttempts()).isEqualTo(7);
							assertThat(policy.getInitialBackoff()).isEqualTo(Duration.ofSeconds(2));
							assertThat(policy.getMaxBackoff()).isEqualTo(Duration.ofSeconds(9));
						});
			});
		StreamHandlerErrorHandler own = (failure, attempts) -> null;
		withApplicationRedisson().withBean(StreamHandlerErrorHandler.class, () -> own)
			.run((context) -> assertThat(context).hasSingleBean(StreamHandlerErrorHandler.class)
				.getBean(StreamHandlerErrorHandler.class)
				.isSameAs(own));
	}

	@Test
	void theHealthIndicatorSwitchIsInTheConfigurationMetadata() throws IOException {
		JsonNode metadata;
		try (InputStream in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			metadata = JsonMapper.builder().build().readTree(in);
		}
		JsonNode found = null;
		for (JsonNode property : metadata.path("properties")) {
			if (property.path("name").asString().equals("management.health.streamlease.enabled")) {
				found = property;
			}
		}
		assertThat(found).as("management.health.streamlease.enabled in the metadata").isNotNull();
		assertThat(found.path("type").asString()).isEqualTo("java.lang.Boolean");
		assertThat(found.path("defaultValue").asBoolean()).isTrue();
		assertThat(found.path("description").asString()).startsWith("Whether");
	}

	@Test
	void doesNothingWithoutRedisson() {
		this.runner.withClassLoader(new FilteredClassLoader(RedissonClient.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(StreamLeaseProperties.class)
				.doesNotHaveBean(StreamHandlerEndpointRegistry.class)
				.doesNotHaveBean(StreamLeaseTemplate.class));
	}

	@Test
	void doesNothingWithoutSpringMessaging() {
		this.runner.withClassLoader(new FilteredClassLoader(MessageHandlerMethodFactory.class))
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(StreamLeaseProperties.class)
				.doesNotHaveBean(StreamHandlerEndpointRegistry.class)
				.doesNotHaveBean(StreamLeaseRedis.class));
	}

	@Test
	void doesNothingWhenDisabled() {
		this.runner.withPropertyValues("stream-lease.enabled=false")
			.run((context) -> assertThat(context).hasNotFailed()
				.doesNotHaveBean(StreamLeaseProperties.class)
				.doesNotHaveBean(StreamHandlerEndpointRegistry.class)
				.doesNotHaveBean(StreamLeaseTemplate.class)
				.doesNotHaveBean(StreamLeaseEngineFactory.class)
				.doesNotHaveBean(StreamLeaseRedis.class)
				.doesNotHaveBean(StreamHandlerAnnotationBeanPostProcessor.class));
	}

	// ---- the application's Redis

	@Test
	void leavesTheApplicationsRedisConnectionFactoryAlone() {
		this.runner.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class)).run((context) -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBeanNamesForType(RedisConnectionFactory.class)).containsExactly("redisConnectionFactory");
			assertThat(context.getBean(RedisConnectionFactory.class)).isInstanceOf(LettuceConnectionFactory.class);
			assertThat(context).doesNotHaveBean(RedissonClient.class).hasSingleBean(StreamLeaseRedis.class);
			try (RedisConnection connection = context.getBean(RedisConnectionFactory.class).getConnection()) {
				assertThat(connection.ping()).isEqualTo("PONG");
			}
		});
	}

	@Test
	void prefersAConnectionDetailsBeanOverTheProperties() throws IOException {
		int closedPort = closedPort();
		DataRedisConnectionDetails details = new DataRedisConnectionDetails() {

			@Override
			public Standalone getStandalone() {
				return Standalone.of("127.0.0.1", redis.port());
			}

		};
		this.runner.withPropertyValues("spring.data.redis.port=" + closedPort)
			.withBean(DataRedisConnectionDetails.class, () -> details)
			.run((context) -> {
				assertThat(context).hasNotFailed();
				context.getBean(StreamLeaseRedis.class).getClient().getBucket("details:probe", StringCodec.INSTANCE).set("via connection details");
				assertThat(redis.command("GET", "details:probe")).isEqualTo("via connection details");
			});
	}

	@Test
	void failsStartupNamingTheAddressWhenRedisCannotBeReachedAndFailFastIsOn() throws IOException {
		int closedPort = closedPort();
		this.runner.withBean(HoldingHandler.class)
			.withPropertyValues("spring.data.redis.port=" + closedPort, "stream-lease.startup.fail-fast=true",
					"stream-lease.startup.timeout=1s")
			.run((context) -> {
				assertThat(context).hasFailed();
				assertThat(messages(context.getStartupFailure())).contains(":" + closedPort)
					.contains("could not be reached within the startup timeout (PT1S");
			});
	}

	/** A loopback port that nothing listens on. */
	static int closedPort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
	}

}
