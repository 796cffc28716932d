package io.streamlease.autoconfigure;

import io.streamlease.listener.StreamHandlerEndpointRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@link StreamLeaseHealthIndicator} (contributor {@code streamLease}); turned off with
 * {@code management.health.streamlease.enabled=false}.
 */
@AutoConfiguration(after = StreamLeaseAutoConfiguration.class)
@ConditionalOnClass({ HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class })
@ConditionalOnBean(StreamHandlerEndpointRegistry.class)
@ConditionalOnEnabledHealthIndicator("streamlease")
public final class StreamLeaseHealthContributorAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(name = "streamLeaseHealthIndicator")
	StreamLeaseHealthIndicator streamLeaseHealthIndicator(StreamHandlerEndpointRegistry registry,
			ObjectProvider<StreamLeasePropertiesMapper> mapper) {
		StreamLeasePropertiesMapper configured = mapper.getIfAvailable();
		return new StreamLeaseHealthIndicator(registry, (configured != null) ? configured.consumerId() : null);
	}

}
