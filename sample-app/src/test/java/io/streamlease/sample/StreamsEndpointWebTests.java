package io.streamlease.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.engine.StreamLeaseEngine;
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
import static org.awaitility.Awaitility.await;

/**
 * The write operation of {@code /actuator/streams} over HTTP, with {@code management.endpoint.streams.access}
 * unrestricted: pause and resume the service, hand off one session, and clear errors for bad requests (their
 * message is in the body where {@code spring.web.error.include-message} allows it).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "stream-lease.consumer-id=sample-web", "management.endpoint.streams.access=unrestricted",
				"spring.web.error.include-message=always" })
@DirtiesContext
class StreamsEndpointWebTests {

	// not closed by the test: the application must stop (hand off) while its Redis is up (see SessionProcessingTests)
	static final RedisServer redis = RedisServers.start();

	@DynamicPropertySource
	static void redisProperties(DynamicPropertyRegistry registry) {
		registry.add("spring.data.redis.host", redis::host);
		registry.add("spring.data.redis.port", redis::port);
	}

	@Autowired
	private StreamLeaseTemplate template;

	@Autowired
	private StreamHandlerEndpointRegistry registry;

	@LocalServerPort
	private int port;

	@Test
	void pausesAndResumesTheServiceAndHandsOffOneSession() throws Exception {
		String open = "session:web-open";
		redis.command("XADD", open, "*", "type", "event", "amount", "3");
		this.template.submit(open, Map.of());
		StreamLeaseEngine engine = this.registry.getContainerForService("sessions").getEngine();
		await().atMost(Duration.ofSeconds(10)).until(() -> engine.ownedCount() == 1);

		HttpResponse<String> paused = post("/actuator/streams/sessions", "{\"action\": \"pause\"}");
		assertThat(paused.statusCode()).isEqualTo(200);
		assertThat(paused.body()).contains("\"paused\":true").contains(open);
		assertThat(engine.isPaused()).isTrue();
		assertThat(get("/actuator/streams").body()).contains("\"paused\":true");

		// paused: a new session waits in the LBS, unread
		String waiting = "session:web-waiting";
		redis.command("XADD", waiting, "*", "type", "end");
		this.template.submit(waiting, Map.of());
		await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
			.until(() -> redis.command("EXISTS", SessionSummaryWriter.key(waiting)).equals(0L));

		HttpResponse<String> resumed = post("/actuator/streams/sessions", "{\"action\": \"resume\"}");
		assertThat(resumed.statusCode()).isEqualTo(200);
		assertThat(resumed.body()).contains("\"paused\":false");
		await().atMost(Duration.ofSeconds(10))
			.until(() -> redis.command("EXISTS", SessionSummaryWriter.key(waiting)).equals(1L));

		long handedOff = engine.counters().handedOff();
		HttpResponse<String> handOff = post("/actuator/streams/sessions",
				"{\"action\": \"hand-off\", \"stream\": \"" + open + "\"}");
		assertThat(handOff.statusCode()).isEqualTo(200);
		assertThat(engine.counters().handedOff()).isEqualTo(handedOff + 1);
		// the only consumer claims it back from its checkpoint, and the session finishes exactly once
		redis.command("XADD", open, "*", "type", "end");
		await().atMost(Duration.ofSeconds(15))
			.until(() -> redis.command("EXISTS", SessionSummaryWriter.key(open)).equals(1L));
		assertThat(redis.command("HGET", SessionSummaryWriter.key(open), "amount")).isEqualTo("3");
	}

	@Test
	void badRequestsAreRefusedWithTheReason() throws Exception {
		HttpResponse<String> unknownAction = post("/actuator/streams/sessions", "{\"action\": \"jump\"}");
		assertThat(unknownAction.statusCode()).isEqualTo(400);
		assertThat(unknownAction.body()).contains("Unknown action 'jump'").contains("pause, resume, hand-off");
		HttpResponse<String> unknownService = post("/actuator/streams/nobody", "{\"action\": \"pause\"}");
		assertThat(unknownService.statusCode()).isEqualTo(400);
		assertThat(unknownService.body()).contains("'nobody'").contains("[sessions]");
		HttpResponse<String> notHeld = post("/actuator/streams/sessions",
				"{\"action\": \"hand-off\", \"stream\": \"session:nobody-holds-it\"}");
		assertThat(notHeld.statusCode()).isEqualTo(400);
		assertThat(notHeld.body()).contains("does not hold stream 'session:nobody-holds-it'");
		assertThat(post("/actuator/streams/sessions", "{\"action\": \"hand-off\"}").body()).contains("needs the data stream");
	}

	private HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(path))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(json))
			.build());
	}

	private HttpResponse<String> get(String path) throws IOException, InterruptedException {
		return send(HttpRequest.newBuilder(uri(path)).GET().build());
	}

	private URI uri(String path) {
		return URI.create("http://127.0.0.1:" + this.port + path);
	}

	static HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
		return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
	}

}
