package io.streamlease.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * Session processing with Stream Lease. Run it with no Redis settings to get an embedded Redis and a demo
 * producer; point it at a Redis with {@code spring.data.redis.*} to run several instances against one Redis.
 */
@SpringBootApplication
@EnableConfigurationProperties(SampleProperties.class)
public class SampleApplication {

	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}

}
