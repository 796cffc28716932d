package io.streamlease.autoconfigure;

import io.micrometer.core.instrument.MeterRegistry;
import io.streamlease.listener.EngineMetricsFactory;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.listener.StreamLeaseContainer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the Micrometer meters of Stream Lease (listed in {@link StreamLeaseMeters}): every engine
 * reports to the application's {@link MeterRegistry}.
 */
@AutoConfiguration(after = StreamLeaseAutoConfiguration.class,
		afterName = { "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({ MeterRegistry.class, StreamHandlerEndpointRegistry.class })
public final class StreamLeaseMetricsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	EngineMetricsFactory streamLeaseEngineMetricsFactory(MeterRegistry meterRegistry,
			ObjectProvider<StreamHandlerEndpointRegistry> endpoints, ObjectProvider<StreamLeaseRedis> redis) {
		StreamLeaseRedis clients = redis.getIfAvailable();
		if (clients != null) {
			RedissonPoolMeters.register(meterRegistry, clients);
		}
		return new MicrometerEngineMetricsFactory(meterRegistry, (service) -> {
			StreamHandlerEndpointRegistry registry = endpoints.getIfAvailable();
			if (registry == null) {
				return null;
			}
			for (StreamLeaseContainer container : registry.getContainers()) {
				if (container.getEndpoint().getService().equals(service)) {
					return container;
				}
			}
			return null;
		});
	}

}
