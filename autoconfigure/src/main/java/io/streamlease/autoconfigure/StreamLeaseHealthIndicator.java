package io.streamlease.autoconfigure;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.streamlease.engine.EngineState;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.listener.StreamLeaseContainer;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * The health of the Stream Lease engines: UP with the consumer id and, per service, the engine's state, the
 * number of held streams and the last successful renewal; DOWN with the reason while an engine connects for the
 * first time, while it cannot reach Redis (UP again by itself once Redis answers), and when it terminated.
 * Credentials in failure messages are masked. A paused service is UP with {@code paused: true} (it keeps its
 * streams alive and takes no new ones, on purpose); one whose container was never started (auto-startup off) or
 * was stopped on its own through the registry shows {@code NEW} or {@code STOPPED}, also without turning health
 * DOWN.
 */
public class StreamLeaseHealthIndicator extends AbstractHealthIndicator {

	/** The state shown for a container stopped through the registry (its engine is closed). */
	static final String STOPPED = "STOPPED";

	private final StreamHandlerEndpointRegistry registry;

	private final String consumerId;

	/**
	 * @param registry the registry whose engines to report
	 * @param consumerId the configured consumer id, shown until an engine exists; may be null
	 */
	public StreamLeaseHealthIndicator(StreamHandlerEndpointRegistry registry, String consumerId) {
		super("Stream Lease health check failed");
		this.registry = registry;
		this.consumerId = consumerId;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		String consumer = null;
		Map<String, Object> services = new LinkedHashMap<>();
		List<String> problems = new ArrayList<>();
		for (StreamLeaseContainer container : this.registry.getContainers()) {
			String service = container.getEndpoint().getService();
			StreamLeaseEngine engine = container.getEngine();
			Map<String, Object> details = new LinkedHashMap<>();
			if (engine == null || (!container.isRunning() && this.registry.isRunning())) {
				// never started (auto-startup off), or stopped on its own through the registry: not a fault (once the
				// whole registry stops, at shutdown, a closed engine is reported as terminated, as before)
				details.put("state", (engine == null) ? EngineState.NEW.name() : STOPPED);
				details.put("owned", 0);
				services.put(service, details);
				continue;
			}
			if (consumer == null) {
				consumer = engine.id();
			}
			details.put("state", engine.state().name());
			details.put("owned", engine.ownedCount());
			if (container.isPaused()) {
				details.put("paused", true);
			}
			if (engine.lastRenewal() != null) {
				details.put("lastRenewal", engine.lastRenewal().toString());
			}
			String problem = problem(engine);
			if (problem != null) {
				details.put("reason", problem);
				problems.add("service '" + service + "': " + problem);
			}
			services.put(service, details);
		}
		if (consumer == null) {
			consumer = this.consumerId;
		}
		if (consumer != null) {
			builder.withDetail("consumerId", consumer);
		}
		builder.withDetail("services", services);
		if (problems.isEmpty()) {
			builder.up();
		}
		else {
			builder.down().withDetail("reason", String.join("; ", problems));
		}
	}

	private static String problem(StreamLeaseEngine engine) {
		if (engine.state() == EngineState.TERMINATED) {
			return "the engine terminated: " + Redaction.redact(orUnknown(engine.terminationReason()));
		}
		if (engine.state() == EngineState.STARTING) {
			return "connecting to Redis"
					+ ((engine.lastRedisFailure() != null) ? ": " + Redaction.redact(engine.lastRedisFailure()) : "");
		}
		if (!engine.isRedisReachable()) {
			return "Redis is unreachable (the engine retries until it answers): "
					+ Redaction.redact(orUnknown(engine.lastRedisFailure()));
		}
		return null;
	}

	private static String orUnknown(String text) {
		return (text != null) ? text : "unknown";
	}

}
