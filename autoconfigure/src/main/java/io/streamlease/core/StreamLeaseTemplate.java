package io.streamlease.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.streamlease.engine.LbsProducer;
import org.redisson.api.RedissonClient;

/**
 * Announces data streams on the LBS of a service, in the wire format of redis-stream-client-go
 * ({@code lbs-input} = {@code {"DataStreamName": ..., "Info": {...}}}).
 * <p>
 * With an {@link ObservationRegistry} ({@link #setObservationRegistry}), every submission is observed
 * ({@value DefaultStreamSubmitObservationConvention#NAME}) and a tracing handler writes the trace context into the
 * entry's {@code Info} (W3C: {@code traceparent}, and {@code tracestate} if any), so that the handler's observation
 * continues the producer's trace.
 */
public class StreamLeaseTemplate {

	private final RedissonClient redisson;

	private final String defaultService;

	private final Map<String, LbsProducer> producers = new ConcurrentHashMap<>();

	private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

	private StreamSubmitObservationConvention observationConvention;

	/**
	 * @param redisson the client to write with
	 * @param defaultService the service of {@link #submit(String, Map)}
	 */
	public StreamLeaseTemplate(RedissonClient redisson, String defaultService) {
		this.redisson = redisson;
		this.defaultService = defaultService;
	}

	/**
	 * Announces a data stream on the default service's LBS.
	 * @return the LBS entry id
	 */
	public String submit(String stream, Map<String, ?> info) {
		return submit(this.defaultService, stream, info);
	}

	/**
	 * Announces a data stream on a service's LBS.
	 * @return the LBS entry id
	 */
	public String submit(String service, String stream, Map<String, ?> info) {
		LbsProducer producer = this.producers.computeIfAbsent(service, (name) -> new LbsProducer(this.redisson, name));
		if (this.observationRegistry.isNoop()) {
			return producer.submit(stream, info);
		}
		Map<String, Object> carrier = (info != null) ? new LinkedHashMap<>(info) : new LinkedHashMap<>();
		StreamSubmitObservationContext context = new StreamSubmitObservationContext(service, stream, carrier);
		return Observation
			.createNotStarted(this.observationConvention, DefaultStreamSubmitObservationConvention.INSTANCE, () -> context,
					this.observationRegistry)
			// started before the call: a tracing handler has put the trace context into the carrier by then
			.observe(() -> producer.submit(stream, (info == null && carrier.isEmpty()) ? null : carrier));
	}

	/**
	 * Observes every submission with this registry (by default none: {@link ObservationRegistry#NOOP}).
	 */
	public void setObservationRegistry(ObservationRegistry observationRegistry) {
		this.observationRegistry = (observationRegistry != null) ? observationRegistry : ObservationRegistry.NOOP;
	}

	/**
	 * Replaces the {@link DefaultStreamSubmitObservationConvention}; null for the default.
	 */
	public void setObservationConvention(StreamSubmitObservationConvention observationConvention) {
		this.observationConvention = observationConvention;
	}

	/**
	 * The service of {@link #submit(String, Map)}.
	 */
	public String getDefaultService() {
		return this.defaultService;
	}

}
