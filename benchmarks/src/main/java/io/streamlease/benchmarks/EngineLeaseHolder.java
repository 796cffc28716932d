package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import io.streamlease.engine.EngineMetrics;
import io.streamlease.engine.EngineSettings;
import io.streamlease.engine.StreamEvent;
import io.streamlease.engine.StreamEvents;
import io.streamlease.engine.StreamLeaseEngine;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.redisson.api.RedissonClient;

/**
 * Our engine holding N streams: they are announced on the LBS, the engine reads and leases them (max concurrent
 * streams >= N, output channel 10,000, events drained), and its batch renewer keeps them. Renewal ticks, lost
 * leases and tick durations come from {@link EngineMetrics#renewal}.
 */
final class EngineLeaseHolder implements LeaseHolder {

	static final String THREAD_PREFIX = "stream-lease-";

	private final CommandCounter counter = new CommandCounter();

	private final RedissonClient redisson;

	private final RedissonClient control;

	private final String service;

	private final Duration hb;

	private final AtomicLong ticks = new AtomicLong();

	private final LongAdder lost = new LongAdder();

	private final LongAdder failedTicks = new LongAdder();

	private final LongAdder added = new LongAdder();

	private final LongAdder disowned = new LongAdder();

	private final Recorder tickMicros = new Recorder(3);

	private final Histogram allTicks = new Histogram(3);

	private final List<Tick> tickLog = new CopyOnWriteArrayList<>();

	private volatile long callsAtLastTick;

	private StreamLeaseEngine client;

	private Thread drainer;

	private volatile boolean closed;

	/** One renewal tick: when it completed, how many leases it covered, how many renewal calls it sent. */
	record Tick(long nanos, int leases, long calls) {
	}

	EngineLeaseHolder(String uri, RedissonClient control, String service, Duration hb) {
		this(uri, null, control, service, hb);
	}

	/** On a Redis Cluster (the client of its own is a cluster client) when {@code clusterNodes} is not null. */
	EngineLeaseHolder(String uri, List<String> clusterNodes, RedissonClient control, String service, Duration hb) {
		this.redisson = (clusterNodes != null) ? RedissonClients.createCluster(clusterNodes, this.counter)
				: RedissonClients.create(uri, this.counter, null);
		this.control = control;
		this.service = service;
		this.hb = hb;
	}

	@Override
	public String approach() {
		return Approach.ENGINE;
	}

	@Override
	public void prepare(int n) {
		EngineSettings settings = EngineSettings.builder(this.service, "bench-holder")
			.hbInterval(this.hb)
			.maxConcurrentStreams(Math.max(n, 10_000))
			.outputChannelSize(10_000)
			.handoffOnClose(false)
			.build();
		this.client = StreamLeaseEngine.create(this.redisson, settings, new EngineMetrics() {

			@Override
			public void renewal(int leases, int lostLeases, boolean success, Duration duration) {
				// every chunk call of this tick was sent before it completed: the calls since the last tick are its calls
				long calls = renewalCallsSoFar();
				EngineLeaseHolder.this.tickLog.add(new Tick(System.nanoTime(), leases, calls - EngineLeaseHolder.this.callsAtLastTick));
				EngineLeaseHolder.this.callsAtLastTick = calls;
				EngineLeaseHolder.this.ticks.incrementAndGet();
				EngineLeaseHolder.this.lost.add(lostLeases);
				if (!success) {
					EngineLeaseHolder.this.failedTicks.increment();
				}
				EngineLeaseHolder.this.tickMicros.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(duration.toNanos())));
			}

			@Override
			public void disowned(String stream, String reason) {
				EngineLeaseHolder.this.disowned.increment();
			}

		});
		StreamEvents events = this.client.start();
		this.drainer = new Thread(() -> drain(events), "benchmark-event-drainer");
		this.drainer.setDaemon(true);
		this.drainer.start();
	}

	@Override
	public int hold(List<String> streams, Duration timeout) throws InterruptedException {
		int n = streams.size();
		if (this.client == null) {
			prepare(n);
		}
		new LbsLoad(this.control, this.service).submitAll(n);
		long deadline = System.nanoTime() + timeout.toNanos();
		while (this.added.sum() < n && System.nanoTime() - deadline < 0) {
			Thread.sleep(20);
		}
		// ADDED counts re-acquisitions too (a stream disowned, then claimed again): wait for the leases themselves
		int owned = this.client.ownedStreams().size();
		while (owned < n && System.nanoTime() - deadline < 0) {
			Thread.sleep(250);
			owned = this.client.ownedStreams().size();
		}
		return owned;
	}

	/** ADDED events so far (a stream disowned and claimed again counts twice). */
	long added() {
		return this.added.sum();
	}

	/** Streams the engine holds now. */
	int owned() {
		return this.client.ownedStreams().size();
	}

	private void drain(StreamEvents events) {
		try {
			while (!this.closed) {
				StreamEvent event = events.poll(Duration.ofMillis(200));
				if (event == null) {
					continue;
				}
				if (event.type() == StreamEvent.Type.ADDED) {
					this.added.increment();
				}
				else if (event.type() == StreamEvent.Type.TERMINATED) {
					return;
				}
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	@Override
	public Duration renewalPeriod() {
		return this.hb.dividedBy(2);
	}

	@Override
	public long renewalCalls(Map<String, Long> requests) {
		return requests.getOrDefault(CommandCounter.ENGINE_RENEWAL, 0L) + requests.getOrDefault("EVAL renew.lua", 0L);
	}

	private long renewalCallsSoFar() {
		return this.counter.count(CommandCounter.ENGINE_RENEWAL) + this.counter.count("EVAL renew.lua");
	}

	/** The renewal ticks that completed between two instants (System.nanoTime). */
	List<Tick> ticksBetween(long from, long to) {
		return this.tickLog.stream().filter((tick) -> tick.nanos() - from > 0 && tick.nanos() - to <= 0).toList();
	}

	@Override
	public long ticks() {
		return this.ticks.get();
	}

	@Override
	public long lost() {
		return this.disowned.sum();
	}

	/** Leases that a renewal found gone or foreign (a subset of {@link #lost()}, which also counts the safety deadline). */
	long lostByRenewal() {
		return this.lost.sum();
	}

	long failedTicks() {
		return this.failedTicks.sum();
	}

	/** Every renewal tick duration so far (ms). */
	Summary allTickDurations() {
		this.allTicks.add(this.tickMicros.getIntervalHistogram());
		return Summary.ofMicros(this.allTicks);
	}

	@Override
	public String leaseKeyPattern() {
		return null;
	}

	@Override
	public String leaseHash() {
		// engine v2: one ownership record per held stream in the owners hash (no key, no TTL per stream)
		return "{" + this.service + "-input}:owners";
	}

	@Override
	public CommandCounter counter() {
		return this.counter;
	}

	@Override
	public long ownThreads() {
		return LeaseHolder.threadsNamed(THREAD_PREFIX);
	}

	@Override
	public String setup() {
		return "StreamLeaseEngine with default settings except hb-interval, max-concurrent-streams >= N and output "
				+ "channel 10,000 (handoff on close off: not measured here); renewal: one renew.lua call per consumer every hb/2, whatever N";
	}

	@Override
	public void close() {
		this.closed = true;
		if (this.client != null) {
			this.client.close();
		}
		this.redisson.shutdown();
	}

}
