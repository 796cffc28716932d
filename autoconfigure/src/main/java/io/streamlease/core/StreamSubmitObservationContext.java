package io.streamlease.core;

import java.util.Map;

import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.SenderContext;

/**
 * The observation context of one submission by {@link StreamLeaseTemplate}: the service, the data stream, and, as
 * the carrier, the entry's {@code Info} map, into which a tracing handler writes the trace context (with Boot's
 * default W3C propagation, {@code traceparent} and, if any, {@code tracestate}) before the entry is written.
 */
public class StreamSubmitObservationContext extends SenderContext<Map<String, Object>> {

	private final String service;

	private final String stream;

	/**
	 * @param service the service whose LBS gets the entry
	 * @param stream the announced data stream
	 * @param info the entry's {@code Info}, mutable: the trace context is put into it
	 */
	public StreamSubmitObservationContext(String service, String stream, Map<String, Object> info) {
		super((carrier, key, value) -> {
			if (carrier != null) {
				carrier.put(key, value);
			}
		}, Kind.PRODUCER);
		this.service = service;
		this.stream = stream;
		setCarrier(info);
		setRemoteServiceName("redis");
	}

	public String getService() {
		return this.service;
	}

	public String getStream() {
		return this.stream;
	}

}
