package io.streamlease.listener;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key values of the observation of a handler invocation; implement it (or extend
 * {@link DefaultStreamHandlerObservationConvention}) to change them.
 */
public interface StreamHandlerObservationConvention extends ObservationConvention<StreamHandlerObservationContext> {

	@Override
	default boolean supportsContext(Observation.Context context) {
		return context instanceof StreamHandlerObservationContext;
	}

}
