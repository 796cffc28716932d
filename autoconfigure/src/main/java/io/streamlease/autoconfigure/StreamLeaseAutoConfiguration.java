package io.streamlease.autoconfigure;

import java.util.concurrent.atomic.AtomicReference;

import io.micrometer.observation.ObservationRegistry;
import io.streamlease.StreamLeaseException;
import io.streamlease.annotation.StreamHandlerAnnotationBeanPostProcessor;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.core.StreamSubmitObservationConvention;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.EngineMetricsFactory;
import io.streamlease.listener.StreamHandlerArgumentResolvers;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.listener.StreamHandlerErrorHandler;
import io.streamlease.listener.StreamHandlerObservationConvention;
import io.streamlease.listener.StreamLeaseEngineFactory;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.Environment;
import org.springframework.messaging.handler.annotation.support.DefaultMessageHandlerMethodFactory;
import org.springframework.messaging.handler.annotation.support.MessageHandlerMethodFactory;
import org.springframework.util.ClassUtils;

/**
 * Auto-configuration of Stream Lease: its Redisson clients (the application's own, or two built from Spring Boot's
 * standard Redis settings and kept to Stream Lease, one for lease traffic and one for data traffic, see
 * {@link StreamLeaseRedis}; the application's {@code RedisConnectionFactory} and {@code RedissonClient} beans are
 * left alone), the @StreamHandler registry and the producer template.
 */
@AutoConfiguration(afterName = { "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
		"org.redisson.spring.starter.RedissonAutoConfigurationV2", "org.redisson.spring.starter.RedissonAutoConfiguration" })
@ConditionalOnClass({ RedissonClient.class, MessageHandlerMethodFactory.class })
@ConditionalOnBooleanProperty(name = "stream-lease.enabled", matchIfMissing = true)
@EnableConfigurationProperties(StreamLeaseProperties.class)
public final class StreamLeaseAutoConfiguration {

	private static final String CONNECTION_DETAILS_CLASS = "org.springframework.boot.data.redis.autoconfigure.DataRedisConnectionDetails";

	@Bean
	static StreamHandlerAnnotationBeanPostProcessor streamHandlerAnnotationBeanPostProcessor() {
		return new StreamHandlerAnnotationBeanPostProcessor();
	}

	@Bean
	StreamLeasePropertiesMapper streamLeasePropertiesMapper(StreamLeaseProperties properties, Environment environment) {
		return new StreamLeasePropertiesMapper(properties, environment);
	}

	@Bean
	@ConditionalOnMissingBean(name = StreamHandlerAnnotationBeanPostProcessor.HANDLER_METHOD_FACTORY_BEAN_NAME)
	MessageHandlerMethodFactory streamLeaseHandlerMethodFactory() {
		DefaultMessageHandlerMethodFactory factory = new DefaultMessageHandlerMethodFactory();
		factory.setCustomArgumentResolvers(StreamHandlerArgumentResolvers.all());
		return factory;
	}

	@Bean
	@ConditionalOnMissingBean
	StreamLeaseEngineFactory streamLeaseEngineFactory(StreamLeaseRedis redis, StreamLeasePropertiesMapper mapper,
			ObjectProvider<EngineMetricsFactory> metrics) {
		RedissonClient redisson = redis.getLeaseClient();
		return new StreamLeaseEngineFactory() {

			@Override
			public StreamLeaseEngine create(String service) {
				return create(service, Integer.MAX_VALUE);
			}

			@Override
			public StreamLeaseEngine create(String service, int streamLimit) {
				EngineMetricsFactory metricsFactory = metrics.getIfAvailable();
				AtomicReference<StreamLeaseEngine> engine = new AtomicReference<>();
				EngineMetrics listener = (metricsFactory != null) ? metricsFactory.create(service, engine::get)
						: EngineMetrics.NONE;
				engine.set(StreamLeaseEngine.create(redisson, mapper.engineSettings(service, streamLimit), listener));
				return engine.get();
			}

		};
	}

	/**
	 * The error policy of every handler: stream-lease.handler.max-attempts, initial-backoff and max-backoff.
	 */
	@Bean
	@ConditionalOnMissingBean
	StreamHandlerErrorHandler streamHandlerErrorHandler(StreamLeasePropertiesMapper mapper) {
		return mapper.containerSettings().errorHandler();
	}

	@Bean
	@ConditionalOnMissingBean
	StreamHandlerEndpointRegistry streamHandlerEndpointRegistry(StreamLeaseEngineFactory engineFactory,
			StreamLeasePropertiesMapper mapper, StreamLeaseRedis redis, ApplicationEventPublisher publisher,
			StreamHandlerErrorHandler errorHandler, StreamLeaseProperties properties,
			ObjectProvider<ObservationRegistry> observationRegistry,
			ObjectProvider<StreamHandlerObservationConvention> observationConvention) {
		StreamHandlerEndpointRegistry registry = new StreamHandlerEndpointRegistry(engineFactory,
				mapper.containerSettings(), redis.getDataClient(), publisher, errorHandler);
		if (properties.getObservation().isEnabled()) {
			registry.setObservationRegistry(observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP),
					observationConvention.getIfUnique());
		}
		return registry;
	}

	@Bean
	@ConditionalOnMissingBean
	StreamLeaseTemplate streamLeaseTemplate(StreamLeaseRedis redis, StreamLeasePropertiesMapper mapper,
			StreamLeaseProperties properties, ObjectProvider<ObservationRegistry> observationRegistry,
			ObjectProvider<StreamSubmitObservationConvention> observationConvention) {
		StreamLeaseTemplate template = new StreamLeaseTemplate(redis.getDataClient(), mapper.defaultService());
		if (properties.getObservation().isEnabled()) {
			template.setObservationRegistry(observationRegistry.getIfUnique(() -> ObservationRegistry.NOOP));
			template.setObservationConvention(observationConvention.getIfUnique());
		}
		return template;
	}

	@Bean
	@ConditionalOnMissingBean
	StreamLeaseRedis streamLeaseRedis(ObjectProvider<RedissonClient> application, Environment environment,
			StreamLeaseProperties properties, StreamLeasePropertiesMapper validated, ObjectProvider<SslBundles> sslBundles,
			BeanFactory beanFactory) {
		// the mapper validated every property, so that a wrong hb-interval is reported as such, not as a
		// connection failure of a client whose timeouts derive from it
		RedissonClient own = application.getIfUnique();
		if (own != null) {
			return StreamLeaseRedis.shared(own);
		}
		RedisConnection.Properties bound = Binder.get(environment)
			.bind("spring.data.redis", RedisConnection.Properties.class)
			.orElse(null);
		RedisConnection connection = null;
		if (ClassUtils.isPresent(CONNECTION_DETAILS_CLASS, getClass().getClassLoader())) {
			connection = ConnectionDetailsRedisConnection.find(beanFactory, bound);
		}
		if (connection == null) {
			connection = RedisConnection.fromProperties(bound, (name) -> sslBundles.getObject().getBundle(name));
		}
		RedissonClient lease = null;
		try {
			lease = Redisson.create(connection.toRedissonConfig(properties.getHbInterval(), RedisConnection.Role.LEASE));
			RedissonClient data = Redisson.create(connection.toRedissonConfig(properties.getHbInterval(), RedisConnection.Role.DATA));
			return StreamLeaseRedis.owned(lease, data);
		}
		catch (RuntimeException ex) {
			if (lease != null) {
				lease.shutdown();
			}
			throw new StreamLeaseException("Stream Lease could not connect to Redis (" + connection + "): "
					+ rootCause(ex) + ". Check the spring.data.redis.* settings (host, port, ssl, username, password), "
					+ "or define a RedissonClient bean.", ex);
		}
	}

	private static String rootCause(Throwable failure) {
		Throwable cause = failure;
		StringBuilder chain = new StringBuilder(String.valueOf(failure.getMessage()));
		while (cause.getCause() != null && cause.getCause() != cause) {
			cause = cause.getCause();
			chain.append("; caused by ").append(cause.getClass().getSimpleName()).append(": ").append(cause.getMessage());
		}
		return chain.toString();
	}

}
