package io.streamlease.engine;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import io.streamlease.LeasedStream;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * A real Redis server per test class (the version comes from the {@code stream-lease.test.redis-version}
 * system property), a fresh service name per test, and engines that each get their own Redisson client, as
 * separate pods would. Every engine's events are recorded so that tests can await conditions on them.
 */
abstract class EngineTestSupport {

	static final Duration HB = Duration.ofSeconds(2);

	@SharedRedisServer
	static RedisServer redis;

	String service;

	private final List<Running> engines = new CopyOnWriteArrayList<>();

	private final List<RedissonClient> clients = new CopyOnWriteArrayList<>();

	@BeforeEach
	void nameService(TestInfo test) {
		this.service = RedisServerExtension.uniqueName("svc", test);
	}

	@AfterEach
	void closeEngines() {
		for (Running running : this.engines) {
			running.client.kill();
		}
		for (RedissonClient client : this.clients) {
			client.shutdown();
		}
	}

	RedissonClient redisson() {
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(4);
		config.useSingleServer()
			.setAddress(redis.uri())
			.setTimeout(1000)
			.setConnectTimeout(1000)
			.setRetryAttempts(1)
			.setRetryInterval(100)
			.setConnectionMinimumIdleSize(2)
			.setConnectionPoolSize(8)
			.setSubscriptionConnectionMinimumIdleSize(1);
		RedissonClient client = Redisson.create(config);
		this.clients.add(client);
		return client;
	}

	EngineSettings.Builder settings(String consumer) {
		return EngineSettings.builder(this.service, consumer).hbInterval(HB).retry(new RetrySettings(-1,
				Duration.ofMillis(50), Duration.ofMillis(500)));
	}

	Running start(String consumer) {
		return start(consumer, (settings) -> {
		});
	}

	Running start(String consumer, Consumer<EngineSettings.Builder> tune) {
		Running running = create(consumer, tune);
		running.start();
		return running;
	}

	Running create(String consumer, Consumer<EngineSettings.Builder> tune) {
		EngineSettings.Builder builder = settings(consumer);
		tune.accept(builder);
		RedissonClient client = redisson();
		Running running = new Running(StreamLeaseEngine.create(client, builder.build()), client);
		this.engines.add(running);
		return running;
	}

	LbsProducer producer() {
		return new LbsProducer(redisson(), this.service);
	}

	StreamLeaseKeys keys() {
		return new StreamLeaseKeys(this.service);
	}

	/**
	 * An engine with its Redisson client and a recorder of its events.
	 */
	static final class Running {

		final StreamLeaseEngine client;

		final RedissonClient redisson;

		final List<StreamEvent> events = new CopyOnWriteArrayList<>();

		final Map<String, LeasedStream> added = new ConcurrentHashMap<>();

		/** Called by the recorder for every ADDED lease, before it is recorded. */
		volatile Consumer<LeasedStream> onAdded = (lease) -> {
		};

		private Thread recorder;

		Running(StreamLeaseEngine client, RedissonClient redisson) {
			this.client = client;
			this.redisson = redisson;
		}

		void start() {
			StreamEvents stream = this.client.start();
			this.recorder = new Thread(() -> {
				try {
					while (true) {
						StreamEvent event = stream.take();
						this.events.add(event);
						if (event.type() == StreamEvent.Type.ADDED) {
							this.onAdded.accept(event.lease());
							this.added.put(event.stream(), event.lease());
						}
						if (event.type() == StreamEvent.Type.TERMINATED) {
							return;
						}
					}
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}, "events-" + this.client.id());
			this.recorder.setDaemon(true);
			this.recorder.start();
		}

		/** Dies like a crashed process: connections drop, nothing is handed off. */
		void crash() {
			this.client.kill();
			this.redisson.shutdown();
		}

		List<String> owned() {
			return this.client.ownedStreams().stream().map(LeasedStream::name).toList();
		}

		List<StreamEvent> events(StreamEvent.Type type) {
			List<StreamEvent> matching = new ArrayList<>();
			for (StreamEvent event : this.events) {
				if (event.type() == type) {
					matching.add(event);
				}
			}
			return matching;
		}

	}

}
