package io.streamlease.autoconfigure;

import io.streamlease.listener.StreamHandlerEndpointRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Auto-configuration of the {@link StreamsEndpoint} ({@code /actuator/streams}), when it is available (exposed,
 * and its access not turned off).
 */
@AutoConfiguration(after = StreamLeaseAutoConfiguration.class)
@ConditionalOnClass({ Endpoint.class, ConditionalOnAvailableEndpoint.class })
@ConditionalOnBean(StreamHandlerEndpointRegistry.class)
@ConditionalOnAvailableEndpoint(StreamsEndpoint.class)
public final class StreamsEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	StreamsEndpoint streamsEndpoint(StreamHandlerEndpointRegistry registry,
			ObjectProvider<StreamLeasePropertiesMapper> mapper) {
		StreamLeasePropertiesMapper configured = mapper.getIfAvailable();
		return new StreamsEndpoint(registry, (configured != null) ? configured.consumerId() : null);
	}

}
