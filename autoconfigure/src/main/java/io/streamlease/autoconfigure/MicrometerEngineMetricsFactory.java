package io.streamlease.autoconfigure;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.StreamLeaseClient;
import io.streamlease.listener.EngineMetricsFactory;

/**
 * Creates a {@link MicrometerEngineMetrics} per service and registers the service's gauges once. The gauges read
 * the service's latest engine, so that an engine created again (a container restarted) is reported rather than
 * the first one.
 */
final class MicrometerEngineMetricsFactory implements EngineMetricsFactory {

	private final MeterRegistry registry;

	private final Map<String, AtomicReference<Supplier<StreamLeaseClient>>> engines = new ConcurrentHashMap<>();

	MicrometerEngineMetricsFactory(MeterRegistry registry) {
		this.registry = registry;
	}

	@Override
	public EngineMetrics create(String service, Supplier<StreamLeaseClient> engine) {
		this.engines.computeIfAbsent(service, this::registerGauges).set(engine);
		return new MicrometerEngineMetrics(this.registry, service);
	}

	private AtomicReference<Supplier<StreamLeaseClient>> registerGauges(String service) {
		AtomicReference<Supplier<StreamLeaseClient>> engine = new AtomicReference<>();
		Gauge.builder(StreamLeaseMeters.OWNED, engine, (reference) -> {
			StreamLeaseClient client = current(reference);
			return (client != null) ? client.ownedCount() : 0;
		})
			.description("Data streams this consumer holds")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.LBS_PENDING, engine, (reference) -> {
			StreamLeaseClient client = current(reference);
			return (client != null) ? client.lbsPending() : Double.NaN;
		})
			.description("LBS entries pending in the consumer group at the last sweep")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		return engine;
	}

	private static StreamLeaseClient current(AtomicReference<Supplier<StreamLeaseClient>> reference) {
		Supplier<StreamLeaseClient> supplier = reference.get();
		return (supplier != null) ? supplier.get() : null;
	}

}
