package io.streamlease.sample;

import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.streamlease.autoconfigure.StreamLeaseRedis;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.listener.StreamHandlerEndpointRegistry;
import org.redisson.api.RBatch;
import org.redisson.api.RStreamAsync;
import org.redisson.api.RedissonClient;
import org.redisson.api.stream.StreamAddArgs;
import org.redisson.client.codec.StringCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * The demo producer: every {@code sample.producer.interval} it writes {@code sample.producer.sessions} sessions, each
 * a data stream {@code session:<uuid>} of a random number of events (amount 1 to 100) and an end marker, then
 * announces each one to the sessions service with the {@link StreamLeaseTemplate}. The stream is written before it
 * is announced, so that its owner finds it complete. On when the application started its own Redis, or with
 * {@code sample.producer.enabled=true}.
 */
@Component
@ConditionalOnBooleanProperty("sample.producer.enabled")
public class DemoSessionProducer implements SmartLifecycle {

	private static final Logger logger = LoggerFactory.getLogger(DemoSessionProducer.class);

	private final RedissonClient redisson;

	private final StreamLeaseTemplate template;

	private final SampleProperties.Producer properties;

	private ScheduledExecutorService scheduler;

	private final AtomicLong produced = new AtomicLong();

	public DemoSessionProducer(StreamLeaseRedis redis, StreamLeaseTemplate template, SampleProperties properties) {
		this.redisson = redis.getClient();
		this.template = template;
		this.properties = properties.getProducer();
		validate(this.properties);
	}

	@Override
	public synchronized void start() {
		this.scheduler = Executors.newSingleThreadScheduledExecutor((task) -> {
			Thread thread = new Thread(task, "demo-session-producer");
			thread.setDaemon(true);
			return thread;
		});
		long interval = this.properties.getInterval().toMillis();
		this.scheduler.scheduleAtFixedRate(this::produce, interval, interval, TimeUnit.MILLISECONDS);
		logger.info("Demo producer started: {} session(s) of {} to {} events every {} ms", this.properties.getSessions(),
				this.properties.getMinEvents(), this.properties.getMaxEvents(), interval);
	}

	@Override
	public synchronized void stop() {
		if (this.scheduler != null) {
			this.scheduler.shutdownNow();
			try {
				this.scheduler.awaitTermination(5, TimeUnit.SECONDS);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			this.scheduler = null;
			logger.info("Demo producer stopped after {} session(s)", this.produced.get());
		}
	}

	@Override
	public synchronized boolean isRunning() {
		return this.scheduler != null;
	}

	/**
	 * Starts after the @StreamHandler registry and stops before it, so that no session is submitted while the
	 * handlers stop.
	 */
	@Override
	public int getPhase() {
		return StreamHandlerEndpointRegistry.PHASE + 1;
	}

	private void produce() {
		try {
			for (int i = 0; i < this.properties.getSessions() && !Thread.currentThread().isInterrupted(); i++) {
				produceSession();
			}
		}
		catch (RuntimeException ex) {
			// keep the schedule: a failure (Redis briefly unreachable) only loses this round
			logger.warn("Demo producer could not create a session: {}", ex.toString());
		}
	}

	/**
	 * Writes one session and submits it; returns its stream name.
	 */
	String produceSession() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		String stream = "session:" + UUID.randomUUID();
		int events = random.nextInt(this.properties.getMinEvents(), this.properties.getMaxEvents() + 1);
		RBatch batch = this.redisson.createBatch();
		RStreamAsync<String, String> data = batch.getStream(stream, StringCodec.INSTANCE);
		for (int i = 0; i < events; i++) {
			data.addAsync(StreamAddArgs.entries(SessionHandler.TYPE, SessionHandler.EVENT, SessionHandler.AMOUNT,
					Integer.toString(random.nextInt(1, 101))));
		}
		data.addAsync(StreamAddArgs.entry(SessionHandler.TYPE, SessionHandler.END));
		batch.execute();
		this.template.submit(stream, Map.of("events", events, "producer", "demo"));
		this.produced.incrementAndGet();
		logger.debug("Submitted session '{}' with {} events", stream, events);
		return stream;
	}

	private static void validate(SampleProperties.Producer properties) {
		if (properties.getInterval() == null || properties.getInterval().toMillis() <= 0) {
			throw new InvalidConfigurationPropertyValueException("sample.producer.interval", properties.getInterval(),
					"it must be at least 1ms");
		}
		if (properties.getSessions() <= 0) {
			throw new InvalidConfigurationPropertyValueException("sample.producer.sessions", properties.getSessions(),
					"it must be greater than 0");
		}
		if (properties.getMinEvents() < 0) {
			throw new InvalidConfigurationPropertyValueException("sample.producer.min-events",
					properties.getMinEvents(), "it must be 0 or more");
		}
		if (properties.getMaxEvents() < properties.getMinEvents()) {
			throw new InvalidConfigurationPropertyValueException("sample.producer.max-events",
					properties.getMaxEvents(), "it must not be less than sample.producer.min-events ("
							+ properties.getMinEvents() + ")");
		}
	}

}
