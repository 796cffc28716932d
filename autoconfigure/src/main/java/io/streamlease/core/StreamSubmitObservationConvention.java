package io.streamlease.core;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key values of the observation of a submission; implement it (or extend
 * {@link DefaultStreamSubmitObservationConvention}) to change them.
 */
public interface StreamSubmitObservationConvention extends ObservationConvention<StreamSubmitObservationContext> {

	@Override
	default boolean supportsContext(Observation.Context context) {
		return context instanceof StreamSubmitObservationContext;
	}

}
