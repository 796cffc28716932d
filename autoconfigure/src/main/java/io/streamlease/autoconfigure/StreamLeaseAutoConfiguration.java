package io.streamlease.autoconfigure;

import java.util.concurrent.atomic.AtomicReference;

import io.streamlease.StreamLeaseException;
import io.streamlease.annotation.StreamHandlerAnnotationBeanPostProcessor;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.StreamLeaseClient;
import io.streamlease.listener.EngineMetricsFactory;
import io.streamlease.listener.StreamHandlerArgumentResolvers;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
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
 * Auto-configuration of Stream Lease: the engine's Redisson client (the application's own, or one built from
 * Spring Boot's standard Redis settings and kept to Stream Lease; the application's {@code RedisConnectionFactory}
 * and {@code RedissonClient} beans are left alone), the @StreamHandler registry and the producer template.
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
		RedissonClient redisson = redis.getClient();
		return (service) -> {
			EngineMetricsFactory metricsFactory = metrics.getIfAvailable();
			AtomicReference<StreamLeaseClient> engine = new AtomicReference<>();
			EngineMetrics listener = (metricsFactory != null) ? metricsFactory.create(service, engine::get)
					: EngineMetrics.NONE;
			engine.set(StreamLeaseClient.create(redisson, mapper.engineSettings(service), listener));
			return engine.get();
		};
	}

	@Bean
	@ConditionalOnMissingBean
	StreamHandlerEndpointRegistry streamHandlerEndpointRegistry(StreamLeaseEngineFactory engineFactory,
			StreamLeasePropertiesMapper mapper, StreamLeaseRedis redis, ApplicationEventPublisher publisher) {
		return new StreamHandlerEndpointRegistry(engineFactory, mapper.containerSettings(), redis.getClient(), publisher);
	}

	@Bean
	@ConditionalOnMissingBean
	StreamLeaseTemplate streamLeaseTemplate(StreamLeaseRedis redis, StreamLeasePropertiesMapper mapper) {
		return new StreamLeaseTemplate(redis.getClient(), mapper.defaultService());
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
		try {
			return StreamLeaseRedis.owned(Redisson.create(connection.toRedissonConfig(properties.getHbInterval())));
		}
		catch (RuntimeException ex) {
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
