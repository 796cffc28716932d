package io.streamlease.listener;

import java.util.function.Supplier;

import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.StreamLeaseEngine;

/**
 * Creates the metrics listener of a service's engine (for example one that records Micrometer meters).
 */
@FunctionalInterface
public interface EngineMetricsFactory {

	/**
	 * @param service the service
	 * @param engine the engine, available once it is created (for gauges)
	 */
	EngineMetrics create(String service, Supplier<StreamLeaseEngine> engine);

}
