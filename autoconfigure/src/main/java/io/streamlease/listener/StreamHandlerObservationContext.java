package io.streamlease.listener;

import java.util.Map;

import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import io.streamlease.LeasedStream;
import io.streamlease.StreamEntry;

/**
 * The observation context of one handler invocation: a stream-level run, or one entry in entry-level mode. Its
 * carrier is the {@code Info} of the LBS entry that announced the stream, from which a tracing handler reads the
 * producer's trace context (W3C: {@code traceparent}, {@code tracestate}), so that the invocation continues that
 * trace.
 */
public class StreamHandlerObservationContext extends ReceiverContext<Map<String, Object>> {

	/** The outcome of an invocation that returned normally (or whose returned stage completed normally). */
	public static final String SUCCESS = "success";

	/** The outcome of an invocation that failed while its stream was still held. */
	public static final String ERROR = "error";

	/** The outcome of an invocation that failed after its stream's lease was lost or handed off. */
	public static final String CANCELLED = "cancelled";

	private final StreamHandlerEndpoint endpoint;

	private final LeasedStream stream;

	private final StreamEntry entry;

	private volatile String outcome = SUCCESS;

	/**
	 * @param endpoint the handler
	 * @param stream the stream being processed
	 * @param entry the entry (entry-level), or null for a stream-level run
	 */
	public StreamHandlerObservationContext(StreamHandlerEndpoint endpoint, LeasedStream stream, StreamEntry entry) {
		super((carrier, key) -> (carrier != null && carrier.get(key) instanceof String value) ? value : null,
				Kind.CONSUMER);
		this.endpoint = endpoint;
		this.stream = stream;
		this.entry = entry;
		setCarrier(stream.info());
		setRemoteServiceName("redis");
	}

	public StreamHandlerEndpoint getEndpoint() {
		return this.endpoint;
	}

	public LeasedStream getStream() {
		return this.stream;
	}

	/**
	 * The entry (entry-level), or null for a stream-level run.
	 */
	public StreamEntry getEntry() {
		return this.entry;
	}

	/**
	 * {@link #SUCCESS}, {@link #ERROR} or {@link #CANCELLED}.
	 */
	public String getOutcome() {
		return this.outcome;
	}

	void setOutcome(String outcome) {
		this.outcome = outcome;
	}

}
