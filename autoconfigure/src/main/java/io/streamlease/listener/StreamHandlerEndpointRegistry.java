package io.streamlease.listener;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.redisson.api.RedissonClient;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * Holds the @StreamHandler endpoints and runs one {@link StreamLeaseContainer} per service. The only
 * {@link SmartLifecycle} of Stream Lease: it starts late (after the rest of the application is ready) and, on
 * stop, waits until every container has handed off its streams.
 */
public class StreamHandlerEndpointRegistry implements SmartLifecycle {

	/** Late start, early stop. */
	public static final int PHASE = Integer.MAX_VALUE - 100;

	private final StreamLeaseEngineFactory engineFactory;

	private final ContainerSettings settings;

	private final RedissonClient redisson;

	private final ApplicationEventPublisher publisher;

	private final Map<String, StreamLeaseContainer> containers = new LinkedHashMap<>();

	private volatile boolean running;

	public StreamHandlerEndpointRegistry(StreamLeaseEngineFactory engineFactory, ContainerSettings settings,
			RedissonClient redisson, ApplicationEventPublisher publisher) {
		this.engineFactory = engineFactory;
		this.settings = settings;
		this.redisson = redisson;
		this.publisher = publisher;
	}

	/**
	 * Registers an endpoint; its container starts with the registry.
	 * @throws IllegalStateException if another handler already serves the same service
	 */
	public synchronized void registerEndpoint(StreamHandlerEndpoint endpoint) {
		StreamLeaseContainer existing = this.containers.get(endpoint.getService());
		if (existing != null) {
			throw new IllegalStateException("Two @StreamHandler methods serve service '" + endpoint.getService() + "': "
					+ existing.getEndpoint().describe() + " and " + endpoint.describe()
					+ ". Each data stream goes to one handler: give one of them another service.");
		}
		StreamLeaseContainer container = new StreamLeaseContainer(endpoint, this.engineFactory, this.settings,
				this.publisher, this.redisson);
		this.containers.put(endpoint.getService(), container);
		if (this.running) {
			container.start();
		}
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
				container.start();
				started.add(container);
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
