package io.streamlease.sample;

import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.DefaultSingletonBeanRegistry;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.event.ApplicationPreparedEvent;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * Starts an {@link EmbeddedRedisServer} when no Redis is configured: none of {@code spring.data.redis.host},
 * {@code port}, {@code url}, {@code cluster.nodes}, {@code sentinel.master} or {@code sentinel.nodes} is set, and
 * {@code sample.embedded-redis.enabled} is not false. It then points {@code spring.data.redis.host} and
 * {@code port} at it and turns the demo producer on (unless {@code sample.producer.enabled} says otherwise), so
 * that one command shows the whole application working.
 * <p>
 * It runs on {@link ApplicationPreparedEvent}: after the environment is complete (including properties that tests
 * add with {@code @DynamicPropertySource}) and before any bean, so before any Redis client connects. The server
 * stops when the context closes, after every other bean (so after Stream Lease has handed its streams off), and
 * at the latest when the JVM shuts down. A {@code kill -9} of the JVM leaves it running; its pid is logged.
 * Registered in {@code META-INF/spring.factories}.
 */
public class EmbeddedRedisApplicationListener implements ApplicationListener<ApplicationPreparedEvent> {

	private static final Logger logger = LoggerFactory.getLogger(EmbeddedRedisApplicationListener.class);

	static final String PROPERTY_SOURCE_NAME = "sampleEmbeddedRedis";

	static final String BEAN_NAME = "sampleEmbeddedRedisServer";

	private static final List<String> REDIS_PROPERTIES = List.of("spring.data.redis.host", "spring.data.redis.port",
			"spring.data.redis.url", "spring.data.redis.cluster.nodes", "spring.data.redis.sentinel.master",
			"spring.data.redis.sentinel.nodes");

	@Override
	public void onApplicationEvent(ApplicationPreparedEvent event) {
		ConfigurableApplicationContext context = event.getApplicationContext();
		ConfigurableEnvironment environment = context.getEnvironment();
		if (environment.getPropertySources().contains(PROPERTY_SOURCE_NAME) || !shouldStart(environment)) {
			return;
		}
		EmbeddedRedisServer server = EmbeddedRedisServer.start();
		ConfigurableListableBeanFactory beanFactory = context.getBeanFactory();
		beanFactory.registerSingleton(BEAN_NAME, server);
		if (beanFactory instanceof DefaultSingletonBeanRegistry registry) {
			// registered before every other disposable bean, so destroyed after all of them
			registry.registerDisposableBean(BEAN_NAME, server::stop);
		}
		SpringApplication.getShutdownHandlers().add(server::stop);
		environment.getPropertySources()
			.addLast(new MapPropertySource(PROPERTY_SOURCE_NAME,
					Map.of("spring.data.redis.host", EmbeddedRedisServer.HOST, "spring.data.redis.port", server.port(),
							"sample.producer.enabled", "true")));
		logger.info("No Redis configured (spring.data.redis.*): started an embedded Redis on {}:{} (pid {}) and the "
				+ "demo producer. Start more instances against it with --spring.data.redis.port={}",
				EmbeddedRedisServer.HOST, server.port(), server.pid(), server.port());
	}

	static boolean shouldStart(ConfigurableEnvironment environment) {
		if (!environment.getProperty("sample.embedded-redis.enabled", Boolean.class, true)) {
			return false;
		}
		Binder binder = Binder.get(environment);
		for (String name : REDIS_PROPERTIES) {
			// a list binds both a single value ("localhost") and an indexed or comma-separated list (cluster nodes)
			if (binder.bind(name, Bindable.listOf(String.class)).isBound()) {
				return false;
			}
		}
		return true;
	}

}
