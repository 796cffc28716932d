package io.streamlease.listener;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;
import io.streamlease.StreamLeaseEvent;
import io.streamlease.autoconfigure.StreamLeaseAutoConfiguration;
import io.streamlease.core.StreamLeaseTemplate;
import io.streamlease.test.redis.RedisServer;
import io.streamlease.test.redis.RedisServerExtension;
import io.streamlease.test.redis.SharedRedisServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.event.EventListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An ADDED event says whether its stream is new or was held before, and a claim shows at INFO, on a real Redis.
 */
@ExtendWith(OutputCaptureExtension.class)
class AddedEventOriginTests {

	@SharedRedisServer
	static RedisServer redis;

	@Test
	void aSubmittedStreamIsNewAndTheSameStreamTakenBackAfterALapsedSessionIsClaimed() {
		String service = RedisServerExtension.uniqueName("origin");
		runner(service).withBean(Holding.class)
			.run((context) -> {
				Holding handler = context.getBean(Holding.class);
				context.getBean(StreamLeaseTemplate.class).submit("s1", null);
				await().atMost(5, TimeUnit.SECONDS).until(() -> added(handler).size() == 1);
				assertThat(added(handler).get(0).origin()).isEqualTo(StreamLeaseEvent.Origin.NEW);
				// the session lapses behind the consumer's back: it disowns the stream, registers again and takes
				// back what its earlier session held
				String consumer = context.getBean(StreamHandlerEndpointRegistry.class).getContainers().iterator().next()
					.getEngine().id();
				redis.command("ZADD", "{" + service + "-input}:consumers", "0", consumer);
				await().atMost(15, TimeUnit.SECONDS).until(() -> added(handler).size() == 2);
				assertThat(added(handler).get(1).origin()).isEqualTo(StreamLeaseEvent.Origin.CLAIMED);
				assertThat(handler.events).filteredOn((event) -> event.type() != StreamLeaseEvent.Type.ADDED)
					.allSatisfy((event) -> assertThat(event.origin()).isNull());
			});
	}

	@Test
	void aStreamHandedOffAloneIsClaimedByAPeerVisiblyAtInfo(CapturedOutput output) {
		String service = RedisServerExtension.uniqueName("handed");
		ApplicationContextRunner runner = runner(service).withBean(Holding.class);
		runner.withPropertyValues("stream-lease.consumer-id=" + service + "-a").run((first) -> {
			Holding a = first.getBean(Holding.class);
			first.getBean(StreamLeaseTemplate.class).submit("s1", null);
			await().atMost(5, TimeUnit.SECONDS).until(() -> added(a).size() == 1);
			runner.withPropertyValues("stream-lease.consumer-id=" + service + "-b").run((second) -> {
				Holding b = second.getBean(Holding.class);
				StreamLeaseContainer container = first.getBean(StreamHandlerEndpointRegistry.class).getContainers()
					.iterator().next();
				LeasedStream held = container.getEngine().ownedStreams().iterator().next();
				container.getEngine().handOff(held);
				await().atMost(10, TimeUnit.SECONDS).until(() -> added(b).size() == 1);
				assertThat(added(b).get(0).origin()).isEqualTo(StreamLeaseEvent.Origin.CLAIMED);
				await().atMost(5, TimeUnit.SECONDS)
					.until(() -> output.getOut().contains("Claimed 1 of 1 lapsed or handed-off streams"));
			});
		});
	}

	private ApplicationContextRunner runner(String service) {
		return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(StreamLeaseAutoConfiguration.class))
			.withPropertyValues("spring.application.name=" + service, "spring.data.redis.host=127.0.0.1",
					"spring.data.redis.port=" + redis.port(), "stream-lease.hb-interval=2s",
					"stream-lease.shutdown.grace-period=200ms");
	}

	private static List<StreamLeaseEvent> added(Holding handler) {
		return handler.events.stream().filter((event) -> event.type() == StreamLeaseEvent.Type.ADDED).toList();
	}

	static class Holding {

		final List<StreamLeaseEvent> events = new CopyOnWriteArrayList<>();

		@StreamHandler
		void handle(LeasedStream stream) throws InterruptedException {
			Thread.sleep(60_000);
		}

		@EventListener
		void on(StreamLeaseEvent event) {
			this.events.add(event);
		}

	}

}
