package io.streamlease.autoconfigure;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.streamlease.LeasedStream;
import io.streamlease.engine.EngineCounters;
import io.streamlease.engine.EngineState;
import io.streamlease.engine.FairShare;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import io.streamlease.listener.StreamLeaseContainer;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.Access;
import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * The {@code streams} actuator endpoint. {@code GET /actuator/streams}: per service, the engine's state, whether it
 * is paused, the handler, the data streams this consumer holds and what the engine has done since it started.
 * <p>
 * {@code POST /actuator/streams/{service}} with a JSON body controls a service on this instance:
 * {@code {"action": "pause"}} (optionally {@code "handOff": true} to hand the held streams off to peers at once),
 * {@code {"action": "resume"}}, or {@code {"action": "hand-off", "stream": "<name>"}} for one stream. The write
 * operation is read-only by default: it needs {@code management.endpoint.streams.access=unrestricted} (and, over
 * HTTP, the endpoint exposed with {@code management.endpoints.web.exposure.include}).
 */
@Endpoint(id = "streams", defaultAccess = Access.READ_ONLY)
public class StreamsEndpoint {

	/** The actions of the write operation. */
	static final List<String> ACTIONS = List.of("pause", "resume", "hand-off");

	private static final CountersDescriptor NO_COUNTERS = new CountersDescriptor(0, 0, 0, 0, 0, 0, 0);

	private final StreamHandlerEndpointRegistry registry;

	private final String consumerId;

	/**
	 * @param registry the registry whose engines to report
	 * @param consumerId the configured consumer id, shown until an engine exists; may be null
	 */
	public StreamsEndpoint(StreamHandlerEndpointRegistry registry, String consumerId) {
		this.registry = registry;
		this.consumerId = consumerId;
	}

	@ReadOperation
	public StreamsDescriptor streams() {
		String consumer = null;
		Map<String, ServiceDescriptor> services = new LinkedHashMap<>();
		for (StreamLeaseContainer container : this.registry.getContainers()) {
			StreamLeaseEngine engine = container.getEngine();
			if (consumer == null && engine != null) {
				consumer = engine.id();
			}
			services.put(container.getEndpoint().getService(), describe(container, engine));
		}
		return new StreamsDescriptor((consumer != null) ? consumer : this.consumerId, services);
	}

	/**
	 * Pauses or resumes a service on this instance, or hands one of its streams off to peers.
	 * @param service the service
	 * @param action {@code pause}, {@code resume} or {@code hand-off}
	 * @param handOff with {@code pause}: whether to hand the held streams off at once (default false: their
	 * handlers go on)
	 * @param stream with {@code hand-off}: the data stream to hand off
	 * @return the service after the change
	 */
	@WriteOperation
	public ServiceDescriptor control(@Selector String service, String action, @Nullable Boolean handOff,
			@Nullable String stream) {
		StreamLeaseContainer container = this.registry.getContainerForService(service);
		if (container == null) {
			List<String> services = new ArrayList<>();
			this.registry.getContainers().forEach((known) -> services.add(known.getEndpoint().getService()));
			throw badRequest("No @StreamHandler serves service '" + service + "' on this instance; the services are "
					+ services);
		}
		try {
			switch (action) {
				case "pause" -> container.pause(Boolean.TRUE.equals(handOff));
				case "resume" -> container.resume();
				case "hand-off" -> {
					if (stream == null || stream.isEmpty()) {
						throw badRequest("The hand-off action needs the data stream to hand off: "
								+ "{\"action\": \"hand-off\", \"stream\": \"<name>\"}");
					}
					if (!container.handOff(stream)) {
						throw badRequest("Consumer '" + container.getEngine().id() + "' does not hold stream '" + stream
								+ "' of service '" + service + "'");
					}
				}
				default -> throw badRequest("Unknown action '" + action + "' for service '" + service + "': use one of "
						+ ACTIONS);
			}
		}
		catch (IllegalStateException ex) {
			throw badRequest(ex.getMessage());
		}
		return describe(container, container.getEngine());
	}

	/**
	 * A 400 answer whose reason is the whole message (shown in the error body where
	 * {@code spring.web.error.include-message} allows it).
	 */
	private static InvalidEndpointRequestException badRequest(String message) {
		return new InvalidEndpointRequestException(message, message);
	}

	private static ServiceDescriptor describe(StreamLeaseContainer container, StreamLeaseEngine engine) {
		String handler = container.getEndpoint().getId();
		String mode = container.getEndpoint().getMode().name().toLowerCase();
		if (engine == null) {
			return new ServiceDescriptor(EngineState.NEW.name(), false, handler, mode, null, List.of(), NO_COUNTERS, null,
					null, true, null, null);
		}
		Set<String> running = new HashSet<>();
		for (LeasedStream stream : container.runningStreams()) {
			running.add(stream.name());
		}
		List<OwnedStreamDescriptor> owned = new ArrayList<>();
		for (LeasedStream stream : engine.ownedStreams()) {
			owned.add(new OwnedStreamDescriptor(stream.name(), stream.lbsEntryId(), stream.fencingToken(),
					stream.recovered(), text(stream.acquiredAt()), running.contains(stream.name())));
		}
		owned.sort(Comparator.comparing(OwnedStreamDescriptor::stream));
		EngineCounters counters = engine.counters();
		return new ServiceDescriptor(engine.state().name(), container.isPaused(), handler, mode, engine.id(), owned,
				new CountersDescriptor(counters.added(), counters.claimed(), counters.completed(), counters.disowned(),
						counters.handedOff(), counters.deadLettered(), counters.duplicates()),
				(engine.state() == EngineState.NEW) ? null : engine.lbsPending(), text(engine.lastRenewal()),
				(engine.state() == EngineState.TERMINATED) ? null : engine.isRedisReachable(),
				Redaction.redact(engine.terminationReason()), share(engine.fairShare(), owned.size()));
	}

	private static ShareDescriptor share(FairShare share, int held) {
		Double value = Double.isNaN(share.share()) ? null : Math.round(share.share() * 10) / 10.0;
		return new ShareDescriptor(share.enabled(), value, held, share.total(), share.consumers(), share.movedOff());
	}

	private static String text(Instant instant) {
		return (instant != null) ? instant.toString() : null;
	}

	/**
	 * The endpoint's response.
	 *
	 * @param consumerId the consumer id of this instance
	 * @param services per service
	 */
	public record StreamsDescriptor(String consumerId, Map<String, ServiceDescriptor> services)
			implements OperationResponseBody {
	}

	/**
	 * One service.
	 *
	 * @param state the engine's lifecycle state ({@code NEW} until it starts, {@code TERMINATED} once its container
	 * stopped)
	 * @param paused whether the service is paused on this instance (it takes no new streams)
	 * @param handler the id of the @StreamHandler endpoint
	 * @param mode {@code stream} or {@code entry}
	 * @param consumerId the consumer id of the engine, null before it starts
	 * @param owned the data streams held now, by name
	 * @param counters what the engine has done since it started
	 * @param lbsPending LBS entries pending in the group at the last sweep, null before the engine starts
	 * @param lastRenewal when the last renewal tick succeeded (ISO-8601), null before the engine starts
	 * @param redisReachable whether the last call to Redis succeeded; null once the engine terminated (it no longer
	 * calls Redis, so it cannot tell)
	 * @param terminationReason why the engine terminated, null while it runs
	 * @param share this consumer's fair share of the service's streams, null before the engine starts
	 */
	public record ServiceDescriptor(String state, boolean paused, String handler, String mode, String consumerId,
			List<OwnedStreamDescriptor> owned, CountersDescriptor counters, Long lbsPending, String lastRenewal,
			Boolean redisReachable, String terminationReason, ShareDescriptor share) {
	}

	/**
	 * Fair share, as of the engine's last renewal.
	 *
	 * @param rebalancing whether this consumer hands off what it holds above its share
	 * @param share its share of the service's streams (by capacity), null before the first renewal
	 * @param held the streams it holds now
	 * @param total the service's streams (owned or released) at the last renewal
	 * @param consumers the live consumers counted for the share, this one included
	 * @param movedOff streams it handed off to consumers below their share since it started
	 */
	public record ShareDescriptor(boolean rebalancing, Double share, int held, long total, int consumers,
			long movedOff) {
	}

	/**
	 * One held data stream.
	 *
	 * @param stream the data stream's name
	 * @param lbsId the id of the LBS entry that announced it
	 * @param fencingToken the fencing token of this acquisition
	 * @param recovered whether another consumer held it before
	 * @param acquiredAt when this consumer acquired the lease (ISO-8601)
	 * @param handlerRunning whether a handler run of the stream is in progress (false while it waits for a retry)
	 */
	public record OwnedStreamDescriptor(String stream, String lbsId, long fencingToken, boolean recovered,
			String acquiredAt, boolean handlerRunning) {
	}

	/**
	 * What an engine has done since it started.
	 *
	 * @param added streams assigned from the LBS
	 * @param claimed streams claimed after a peer's lease lapsed or was handed off
	 * @param completed streams finished (done)
	 * @param disowned leases lost while held
	 * @param handedOff leases handed off at close
	 * @param deadLettered LBS entries moved to the dead-letter stream
	 * @param duplicates LBS entries that arrived for a stream already held
	 */
	public record CountersDescriptor(long added, long claimed, long completed, long disowned, long handedOff,
			long deadLettered, long duplicates) {
	}

}
