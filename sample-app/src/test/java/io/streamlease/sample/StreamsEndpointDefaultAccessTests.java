package io.streamlease.sample;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServers;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * By default the {@code streams} endpoint is read-only, even where it is exposed over HTTP (as in the sample):
 * the write operation is not mapped, so nobody pauses a service without the access being granted.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "stream-lease.consumer-id=sample-read-only")
@DirtiesContext
class StreamsEndpointDefaultAccessTests {

	static final RedisServer redis = RedisServers.start();

	@DynamicPropertySource
	static void redisProperties(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.host", redis::host);
		registry.add("spring.data.redis.port", redis::port);
	}

	@Autowired
	private StreamHandlerEndpointRegistry registry;

	@LocalServerPort
	private int port;

	@Test
	void theWriteOperationIsNotAvailableWithoutUnrestrictedAccess() throws Exception {
		HttpResponse<String> read = StreamsEndpointWebTests
			.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/actuator/streams")).GET().build());
		assertThat(read.statusCode()).isEqualTo(200);
		HttpResponse<String> write = StreamsEndpointWebTests.send(HttpRequest
			.newBuilder(URI.create("http://127.0.0.1:" + this.port + "/actuator/streams/sessions"))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString("{\"action\": \"pause\"}"))
			.build());
		assertThat(write.statusCode()).isGreaterThanOrEqualTo(400).isLessThan(500);
		assertThat(this.registry.getContainerForService("sessions").isPaused()).isFalse();
	}

}
