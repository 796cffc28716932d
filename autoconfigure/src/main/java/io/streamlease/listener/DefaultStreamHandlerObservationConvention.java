package io.streamlease.listener;

import io.micrometer.common.KeyValues;

/**
 * The default names of the handler observation: {@value #NAME}, with the service, the handler id, the mode and the
 * outcome as low-cardinality key values, and the data stream's name (and, entry-level, the entry id) only as
 * high-cardinality ones (they are unbounded).
 */
public class DefaultStreamHandlerObservationConvention implements StreamHandlerObservationConvention {

	/** The observation's name (also the name of its timer, where metrics are observed). */
	public static final String NAME = "stream.lease.handle";

	/** The shared instance. */
	public static final DefaultStreamHandlerObservationConvention INSTANCE = new DefaultStreamHandlerObservationConvention();

	@Override
	public String getName() {
		return NAME;
	}

	@Override
	public String getContextualName(StreamHandlerObservationContext context) {
		return context.getEndpoint().getService() + " process";
	}

	@Override
	public KeyValues getLowCardinalityKeyValues(StreamHandlerObservationContext context) {
		return KeyValues.of("service", context.getEndpoint().getService(), "handler", context.getEndpoint().getId(),
				"mode", context.getEndpoint().getMode().name().toLowerCase(), "outcome", context.getOutcome());
	}

	@Override
	public KeyValues getHighCardinalityKeyValues(StreamHandlerObservationContext context) {
		KeyValues values = KeyValues.of("stream", context.getStream().name());
		return (context.getEntry() != null) ? values.and("entry", context.getEntry().id()) : values;
	}

}
