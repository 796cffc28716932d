package io.streamlease.listener;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.micrometer.observation.ObservationRegistry;
import org.redisson.api.RedissonClient;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * Holds the @StreamHandler endpoints and runs one {@link StreamLeaseContainer} per service. The only
 * {@link SmartLifecycle} of Stream Lease: it starts late (after the rest of the application is ready) the containers
 * whose endpoint starts automatically and, on stop, waits until every container has handed off its streams.
 * <p>
 * It is also the application's handle on its containers, by handler id: {@link #start(String)},
 * {@link #stop(String)}, {@link #pause(String, boolean)} and {@link #resume(String)}.
 */
public class StreamHandlerEndpointRegistry implements SmartLifecycle {

	/** Late start, early stop. */
	public static final int PHASE = Integer.MAX_VALUE - 100;

	private final StreamLeaseEngineFactory engineFactory;

	private final ContainerSettings settings;

	private final RedissonClient redisson;

	private final ApplicationEventPublisher publisher;

	private final StreamHandlerErrorHandler errorHandler;

	private final Map<String, StreamLeaseContainer> containers = new LinkedHashMap<>();

	private volatile boolean running;

	private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

	private StreamHandlerObservationConvention observationConvention;

	/**
	 * A registry whose containers use the error policy that {@code settings} describe.
	 */
	public StreamHandlerEndpointRegistry(StreamLeaseEngineFactory engineFactory, ContainerSettings settings,
			RedissonClient redisson, ApplicationEventPublisher publisher) {
		this(engineFactory, settings, redisson, publisher, (settings != null) ? settings.errorHandler() : null);
	}

	/**
	 * @param errorHandler the error policy of every container; a {@link DefaultStreamErrorHandler} is adapted to the
	 * attempts and back-off a handler overrides
	 */
	public StreamHandlerEndpointRegistry(StreamLeaseEngineFactory engineFactory, ContainerSettings settings,
			RedissonClient redisson, ApplicationEventPublisher publisher, StreamHandlerErrorHandler errorHandler) {
		this.engineFactory = engineFactory;
		this.settings = settings;
		this.redisson = redisson;
		this.publisher = publisher;
		this.errorHandler = errorHandler;
	}

	/**
	 * Registers an endpoint; its container starts with the registry.
	 * @throws IllegalStateException if another handler already serves the same service, or the handler overrides
	 * the attempts or back-off of an error handler that is not a {@link DefaultStreamErrorHandler}
	 */
	public synchronized void registerEndpoint(StreamHandlerEndpoint endpoint) {
		for (StreamLeaseContainer other : this.containers.values()) {
			if (other.getEndpoint().getId().equals(endpoint.getId())) {
				throw new IllegalStateException("Two @StreamHandler methods have the id '" + endpoint.getId() + "': "
						+ other.getEndpoint().describe() + " and " + endpoint.describe() + ". Give one of them another id.");
			}
		}
		StreamLeaseContainer existing = this.containers.get(endpoint.getService());
		if (existing != null) {
			throw new IllegalStateException("Two @StreamHandler methods serve service '" + endpoint.getService() + "': "
					+ existing.getEndpoint().describe() + " and " + endpoint.describe()
					+ ". Each data stream goes to one handler: give one of them another service.");
		}
		StreamLeaseContainer container = new StreamLeaseContainer(endpoint, this.engineFactory, this.settings,
				this.publisher, this.redisson, errorHandler(endpoint));
		container.observeWith(this.observationRegistry, this.observationConvention);
		this.containers.put(endpoint.getService(), container);
		if (this.running && endpoint.isAutoStartup()) {
			container.start();
		}
	}

	/**
	 * The error policy of an endpoint: the registry's, with the attempts and back-off the handler overrides.
	 */
	StreamHandlerErrorHandler errorHandler(StreamHandlerEndpoint endpoint) {
		StreamHandlerEndpoint.Overrides overrides = endpoint.getOverrides();
		if (!overrides.overridesErrorPolicy()) {
			return this.errorHandler;
		}
		if (!(this.errorHandler instanceof DefaultStreamErrorHandler policy)) {
			throw new IllegalStateException("@StreamHandler method " + endpoint.describe() + " sets maxAttempts, "
					+ "initialBackoff or maxBackoff, but the error handler " + this.errorHandler + " is not a "
					+ "DefaultStreamErrorHandler, whose attempts and back-off those attributes change: remove the "
					+ "attributes and give your StreamHandlerErrorHandler bean the policy it should apply");
		}
		if (overrides.maxAttempts() != null) {
			policy = policy.withMaxAttempts(overrides.maxAttempts());
		}
		if (overrides.initialBackoff() != null || overrides.maxBackoff() != null) {
			Duration initial = (overrides.initialBackoff() != null) ? overrides.initialBackoff() : policy.getInitialBackoff();
			Duration max = (overrides.maxBackoff() != null) ? overrides.maxBackoff() : policy.getMaxBackoff();
			if (initial.compareTo(max) > 0) {
				throw new IllegalStateException("@StreamHandler method " + endpoint.describe() + " backs off from "
						+ initial + " to " + max + ": initialBackoff must not be greater than maxBackoff (attributes, "
						+ "else stream-lease.handler.initial-backoff and max-backoff)");
			}
			policy = policy.withBackoff(initial, max);
		}
		return policy;
	}

	/**
	 * Observes every handler invocation of the containers registered from now on with this registry (by default none:
	 * {@link ObservationRegistry#NOOP}).
	 * @param convention null for the {@link DefaultStreamHandlerObservationConvention}
	 */
	public synchronized void setObservationRegistry(ObservationRegistry registry,
			StreamHandlerObservationConvention convention) {
		this.observationRegistry = (registry != null) ? registry : ObservationRegistry.NOOP;
		this.observationConvention = convention;
	}

	/**
	 * The container of a handler.
	 * @param handlerId the id of the @StreamHandler endpoint
	 * @throws IllegalArgumentException if no handler has that id (the message lists the ids there are)
	 */
	public synchronized StreamLeaseContainer getContainer(String handlerId) {
		for (StreamLeaseContainer container : this.containers.values()) {
			if (container.getEndpoint().getId().equals(handlerId)) {
				return container;
			}
		}
		throw new IllegalArgumentException("No @StreamHandler has the id '" + handlerId + "'; the ids are "
				+ getContainerIds());
	}

	/**
	 * The container of a service, or null if no handler serves it.
	 */
	public synchronized StreamLeaseContainer getContainerForService(String service) {
		return this.containers.get(service);
	}

	/**
	 * The ids of the registered handlers.
	 */
	public synchronized List<String> getContainerIds() {
		List<String> ids = new ArrayList<>();
		for (StreamLeaseContainer container : this.containers.values()) {
			ids.add(container.getEndpoint().getId());
		}
		return ids;
	}

	/**
	 * Starts a handler's container (one that does not start automatically, or one stopped before); nothing happens
	 * if it runs.
	 * @throws IllegalArgumentException if no handler has that id
	 */
	public void start(String handlerId) {
		getContainer(handlerId).start();
	}

	/**
	 * Stops a handler's container as at shutdown: it stops taking streams, gives running handlers the grace period
	 * and hands the rest off to peers. Returns when it stopped.
	 * @throws IllegalArgumentException if no handler has that id
	 */
	public void stop(String handlerId) {
		getContainer(handlerId).stop();
	}

	/**
	 * Pauses a handler's container (see {@link StreamLeaseContainer#pause(boolean)}).
	 * @param handOff whether to hand the held streams off to peers at once, instead of letting their handlers go on
	 * @throws IllegalArgumentException if no handler has that id
	 * @throws IllegalStateException if its container is not running
	 */
	public void pause(String handlerId, boolean handOff) {
		getContainer(handlerId).pause(handOff);
	}

	/**
	 * Resumes a paused handler's container.
	 * @throws IllegalArgumentException if no handler has that id
	 * @throws IllegalStateException if its container is not running
	 */
	public void resume(String handlerId) {
		getContainer(handlerId).resume();
	}

	/**
	 * The containers, one per service.
	 */
	public synchronized Collection<StreamLeaseContainer> getContainers() {
		return List.copyOf(this.containers.values());
	}

	@Override
	public synchronized void start() {
		List<StreamLeaseContainer> started = new ArrayList<>();
		try {
			for (StreamLeaseContainer container : this.containers.values()) {
				if (container.getEndpoint().isAutoStartup()) {
					container.start();
					started.add(container);
				}
			}
		}
		catch (RuntimeException ex) {
			started.forEach(StreamLeaseContainer::stop);
			throw ex;
		}
		this.running = true;
	}

	@Override
	public void stop() {
		List<StreamLeaseContainer> toStop;
		synchronized (this) {
			this.running = false;
			toStop = List.copyOf(this.containers.values());
		}
		List<Thread> stopping = new ArrayList<>();
		for (StreamLeaseContainer container : toStop) {
			Thread thread = new Thread(container::stop, "stream-lease-stop-" + container.getEndpoint().getService());
			thread.start();
			stopping.add(thread);
		}
		for (Thread thread : stopping) {
			try {
				thread.join();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				return;
			}
		}
	}

	@Override
	public void stop(Runnable callback) {
		stop();
		callback.run();
	}

	@Override
	public boolean isRunning() {
		return this.running;
	}

	@Override
	public int getPhase() {
		return PHASE;
	}

}
