package io.streamlease.chaos;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * Asks one sample instance for its health ({@code GET /actuator/health}, details shown) and reads the
 * {@code streamLease} component: UP, or DOWN with its reason.
 */
final class HealthProbe {

	private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

	private static final Duration TIMEOUT = Duration.ofSeconds(2);

	private HealthProbe() {
	}

	/**
	 * The health of the Stream Lease component as one instance reports it.
	 *
	 * @param status the component's status ({@code UP}, {@code DOWN}), or {@code UNREACHABLE} when the instance did
	 * not answer, or {@code MISSING} when the reply has no {@code streamLease} component
	 * @param reason the component's {@code reason} detail, or what went wrong
	 */
	record Health(String status, String reason) {

		boolean up() {
			return "UP".equals(this.status);
		}

		boolean down() {
			return "DOWN".equals(this.status);
		}

		@Override
		public String toString() {
			return this.status + ((this.reason != null) ? " (" + this.reason + ")" : "");
		}

	}

	/**
	 * Asks the instance; never throws.
	 */
	static Health check(SampleInstance instance) {
		Integer port = instance.httpPort();
		if (port == null) {
			return new Health("UNREACHABLE", "no HTTP port in its log yet");
		}
		try {
			HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health"))
				.timeout(TIMEOUT)
				.GET()
				.build();
			// 503 when DOWN: the body still has the components
			String body = HTTP.send(request, HttpResponse.BodyHandlers.ofString()).body();
			return parse(body);
		}
		catch (IOException | RuntimeException ex) {
			return new Health("UNREACHABLE", ex.toString());
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			return new Health("UNREACHABLE", "interrupted");
		}
	}

	static Health parse(String body) {
		Object reply = Json.parse(body);
		if (!(reply instanceof Map<?, ?> root) || !(root.get("components") instanceof Map<?, ?> components)
				|| !(components.get("streamLease") instanceof Map<?, ?> component)) {
			return new Health("MISSING", "no streamLease component in " + abbreviate(body));
		}
		Object reason = (component.get("details") instanceof Map<?, ?> details) ? details.get("reason") : null;
		return new Health(String.valueOf(component.get("status")), (reason != null) ? reason.toString() : null);
	}

	private static String abbreviate(String text) {
		return (text.length() > 300) ? text.substring(0, 300) + "..." : text;
	}

}
