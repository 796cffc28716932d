package io.streamlease.core;

import io.micrometer.common.KeyValues;

/**
 * The default names of the submission observation: {@value #NAME}, with the service as a low-cardinality key
 * value and the data stream's name only as a high-cardinality one (it is unbounded).
 */
public class DefaultStreamSubmitObservationConvention implements StreamSubmitObservationConvention {

	/** The observation's name (also the name of its timer, where metrics are observed). */
	public static final String NAME = "stream.lease.submit";

	/** The shared instance. */
	public static final DefaultStreamSubmitObservationConvention INSTANCE = new DefaultStreamSubmitObservationConvention();

	@Override
	public String getName() {
		return NAME;
	}

	@Override
	public String getContextualName(StreamSubmitObservationContext context) {
		return context.getService() + " submit";
	}

	@Override
	public KeyValues getLowCardinalityKeyValues(StreamSubmitObservationContext context) {
		return KeyValues.of("service", context.getService());
	}

	@Override
	public KeyValues getHighCardinalityKeyValues(StreamSubmitObservationContext context) {
		return KeyValues.of("stream", context.getStream());
	}

}
