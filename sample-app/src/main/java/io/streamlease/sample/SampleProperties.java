package io.streamlease.sample;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties of the sample application.
 */
@ConfigurationProperties("sample")
public class SampleProperties {

	/**
	 * How long the session handler pauses on each entry, to make sessions last long enough to watch (and to kill
	 * an instance in the middle of them).
	 */
	private Duration processingDelay = Duration.ofMillis(5);

	private final Producer producer = new Producer();

	private final EmbeddedRedis embeddedRedis = new EmbeddedRedis();

	private final Audit audit = new Audit();

	public Duration getProcessingDelay() {
		return this.processingDelay;
	}

	public void setProcessingDelay(Duration processingDelay) {
		this.processingDelay = processingDelay;
	}

	public Producer getProducer() {
		return this.producer;
	}

	public EmbeddedRedis getEmbeddedRedis() {
		return this.embeddedRedis;
	}

	public Audit getAudit() {
		return this.audit;
	}

	/**
	 * The demo producer: writes random sessions to Redis and submits them to the "sessions" service.
	 */
	public static class Producer {

		/**
		 * Whether to run the demo producer. On by default when the application starts its embedded Redis, off
		 * when spring.data.redis.* points at a Redis.
		 */
		private boolean enabled;

		/**
		 * How often the producer creates sessions.
		 */
		private Duration interval = Duration.ofSeconds(1);

		/**
		 * How many sessions the producer creates each interval.
		 */
		private int sessions = 1;

		/**
		 * Fewest events in one session (each with a random amount from 1 to 100).
		 */
		private int minEvents = 1;

		/**
		 * Most events in one session.
		 */
		private int maxEvents = 20;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public Duration getInterval() {
			return this.interval;
		}

		public void setInterval(Duration interval) {
			this.interval = interval;
		}

		public int getSessions() {
			return this.sessions;
		}

		public void setSessions(int sessions) {
			this.sessions = sessions;
		}

		public int getMinEvents() {
			return this.minEvents;
		}

		public void setMinEvents(int minEvents) {
			this.minEvents = minEvents;
		}

		public int getMaxEvents() {
			return this.maxEvents;
		}

		public void setMaxEvents(int maxEvents) {
			this.maxEvents = maxEvents;
		}

	}

	/**
	 * The Redis the application starts for itself when no Redis is configured.
	 */
	public static class EmbeddedRedis {

		/**
		 * Whether to start a Redis server (the 6.2 binary inside the embedded-redis jar) on a free loopback port
		 * when none of spring.data.redis.host, port, url, cluster.nodes or sentinel.master is set. Read before the
		 * application context starts, from the environment.
		 */
		private boolean enabled = true;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * The processing audit, for fault-injection runs (the project's chaos harness reads it to check fencing and to
	 * time takeovers). When enabled, the session handler appends one record to the audit stream for every entry it
	 * starts to handle ({@code kind=entry}, {@code stream}, {@code entry}, {@code type}, {@code consumer},
	 * {@code token}, {@code recovered}), and {@code write-summary.lua} appends one record for every summary write it
	 * is asked for, in the same script as the write ({@code kind=summary}, {@code key}, {@code result} accepted or
	 * rejected, the caller's {@code token}, the {@code stored} token found, and the summary fields).
	 * <p>
	 * Off by default, and meant for tests only: the audit stream grows by one record per entry and is never trimmed,
	 * a failed audit write fails the handler like any other Redis write (the entry is retried), and the summary
	 * script then touches two keys that a Redis Cluster puts in different hash slots, so with the audit on the sample
	 * works on a standalone (or Sentinel) Redis only: in a cluster every summary write fails with CROSSSLOT.
	 */
	public static class Audit {

		/**
		 * Whether to record every handled entry and every summary write attempt to the audit stream. For tests
		 * on a standalone Redis only (see the class description).
		 */
		private boolean enabled;

		/**
		 * The key of the audit stream.
		 */
		private String stream = "sample:audit";

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public String getStream() {
			return this.stream;
		}

		public void setStream(String stream) {
			this.stream = stream;
		}

	}

}
