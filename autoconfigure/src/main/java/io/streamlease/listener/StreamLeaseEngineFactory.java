package io.streamlease.listener;

import io.streamlease.engine.StreamLeaseClient;

/**
 * Creates the (not yet started) engine of a service: its settings, Redis client and metrics.
 */
@FunctionalInterface
public interface StreamLeaseEngineFactory {

	StreamLeaseClient create(String service);

}
