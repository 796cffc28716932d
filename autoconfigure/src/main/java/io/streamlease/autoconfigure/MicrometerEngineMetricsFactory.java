package io.streamlease.autoconfigure;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.streamlease.LeasedStream;
import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.EngineState;
import io.streamlease.engine.StreamLeaseEngine;
import io.streamlease.listener.EngineMetricsFactory;
import io.streamlease.listener.StreamLeaseContainer;

/**
 * Creates a {@link MicrometerEngineMetrics} per service and registers the service's gauges once. The gauges read
 * the service's latest engine, so that an engine created again (a container restarted) is reported rather than
 * the first one.
 */
final class MicrometerEngineMetricsFactory implements EngineMetricsFactory {

	private final MeterRegistry registry;

	private final Map<String, AtomicReference<Supplier<StreamLeaseEngine>>> engines = new ConcurrentHashMap<>();

	private final Function<String, StreamLeaseContainer> containers;

	MicrometerEngineMetricsFactory(MeterRegistry registry) {
		this(registry, (service) -> null);
	}

	/**
	 * @param containers the container of a service, or null (for the entry reader's gauges)
	 */
	MicrometerEngineMetricsFactory(MeterRegistry registry, Function<String, StreamLeaseContainer> containers) {
		this.registry = registry;
		this.containers = containers;
	}

	@Override
	public EngineMetrics create(String service, Supplier<StreamLeaseEngine> engine) {
		this.engines.computeIfAbsent(service, this::registerGauges).set(engine);
		return new MicrometerEngineMetrics(this.registry, service);
	}

	private AtomicReference<Supplier<StreamLeaseEngine>> registerGauges(String service) {
		AtomicReference<Supplier<StreamLeaseEngine>> engine = new AtomicReference<>();
		Gauge.builder(StreamLeaseMeters.OWNED, engine, (reference) -> {
			StreamLeaseEngine client = current(reference);
			return (client != null) ? client.ownedCount() : 0;
		})
			.description("Data streams this consumer holds")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.LBS_PENDING, engine, (reference) -> {
			StreamLeaseEngine client = current(reference);
			return (client != null) ? client.lbsPending() : Double.NaN;
		})
			.description("LBS entries pending in the consumer group at the last sweep")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.SHARE, engine, (reference) -> {
			StreamLeaseEngine client = current(reference);
			return (client != null) ? client.fairShare().share() : Double.NaN;
		})
			.description("This consumer's fair share of the service's streams (by capacity) at the last renewal")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.RENEWAL_AGE, engine, (reference) -> {
			StreamLeaseEngine client = current(reference);
			Instant last = (client != null) ? client.lastRenewal() : null;
			return (last != null) ? Duration.between(last, Instant.now()).toNanos() / 1e9 : Double.NaN;
		})
			.description("Seconds since the last confirmed renewal tick")
			.tag(StreamLeaseMeters.SERVICE, service)
			.baseUnit("seconds")
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.HELD_OLDEST_AGE, engine, (reference) -> oldestHeldAge(current(reference)))
			.description("Seconds since the oldest stream held now was acquired (0 when none is held)")
			.tag(StreamLeaseMeters.SERVICE, service)
			.baseUnit("seconds")
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.TERMINATED, engine, (reference) -> {
			StreamLeaseEngine client = current(reference);
			return (client != null && client.state() == EngineState.TERMINATED) ? 1 : 0;
		})
			.description("1 when the service's engine has terminated (closed, a fatal error, or retries exhausted), else 0")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.ENTRY_READS_ACTIVE, this.containers, (lookup) -> {
			StreamLeaseContainer container = lookup.apply(service);
			return (container != null) ? container.entryReadsInFlight() : 0;
		})
			.description("XREAD commands of the entry reader in flight")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		Gauge.builder(StreamLeaseMeters.ENTRY_CHECKPOINTS_ACTIVE, this.containers, (lookup) -> {
			StreamLeaseContainer container = lookup.apply(service);
			return (container != null) ? container.entryCheckpointsInFlight() : 0;
		})
			.description("Checkpoint and finishing calls of entry-level handlers in flight")
			.tag(StreamLeaseMeters.SERVICE, service)
			.register(this.registry);
		return engine;
	}

	/**
	 * Seconds since the oldest held stream was acquired; 0 when none is held or before the engine starts.
	 */
	static double oldestHeldAge(StreamLeaseEngine engine) {
		if (engine == null || engine.ownedCount() == 0) {
			return 0;
		}
		Instant oldest = null;
		for (LeasedStream stream : engine.ownedStreams()) {
			Instant acquired = stream.acquiredAt();
			if (acquired != null && (oldest == null || acquired.isBefore(oldest))) {
				oldest = acquired;
			}
		}
		return (oldest != null) ? Math.max(0, Duration.between(oldest, Instant.now()).toNanos() / 1e9) : 0;
	}

	private static StreamLeaseEngine current(AtomicReference<Supplier<StreamLeaseEngine>> reference) {
		Supplier<StreamLeaseEngine> supplier = reference.get();
		return (supplier != null) ? supplier.get() : null;
	}

}
