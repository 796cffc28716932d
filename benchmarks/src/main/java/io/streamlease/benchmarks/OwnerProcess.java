package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.RetrySettings;
import io.streamlease.engine.StreamEvent;
import io.streamlease.engine.StreamEvents;
import io.streamlease.engine.StreamLeaseClient;
import org.redisson.Redisson;
import org.redisson.api.RedissonClient;
import org.redisson.config.Config;

/**
 * The owner in the failover scenario: a consumer in a process of its own, so that it can be killed with SIGKILL
 * like a crashed pod. It takes the streams announced on the LBS, prints {@code STARTED} once running and
 * {@code HOLDING <n>} once it holds the expected number, and runs until killed.
 * <p>
 * Arguments: redis uri, service, consumer id, hb-interval in ms, expected number of streams.
 */
public final class OwnerProcess {

	private OwnerProcess() {
	}

	public static void main(String[] args) throws Exception {
		int expected = Integer.parseInt(args[4]);
		Config config = new Config();
		config.setThreads(2);
		config.setNettyThreads(2);
		config.useSingleServer().setAddress(args[0]).setTimeout(3000).setRetryAttempts(2).setRetryInterval(100);
		RedissonClient redisson = Redisson.create(config);
		EngineSettings settings = EngineSettings.builder(args[1], args[2])
			.hbInterval(Duration.ofMillis(Long.parseLong(args[3])))
			.maxConcurrentStreams(Math.max(expected, 10_000))
			.outputChannelSize(10_000)
			.retry(new RetrySettings(-1, Duration.ofMillis(50), Duration.ofMillis(500)))
			.build();
		StreamLeaseClient client = StreamLeaseClient.create(redisson, settings);
		StreamEvents events = client.start();
		LongAdder added = new LongAdder();
		Thread drainer = new Thread(() -> {
			try {
				while (true) {
					StreamEvent event = events.take();
					if (event.type() == StreamEvent.Type.ADDED) {
						added.increment();
					}
					else if (event.type() == StreamEvent.Type.DISOWNED) {
						say("DISOWNED " + event.stream());
					}
					else if (event.type() == StreamEvent.Type.TERMINATED) {
						say("TERMINATED " + event.reason());
						return;
					}
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
		}, "owner-events");
		drainer.setDaemon(true);
		drainer.start();
		say("STARTED " + args[2]);
		boolean announced = false;
		while (true) {
			if (!announced && added.sum() >= expected && client.ownedStreams().size() >= expected) {
				say("HOLDING " + client.ownedStreams().size());
				announced = true;
			}
			Thread.sleep(20);
		}
	}

	private static void say(String line) {
		System.out.println(line);
		System.out.flush();
	}

}
