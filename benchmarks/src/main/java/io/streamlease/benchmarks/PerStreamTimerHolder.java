package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.redisson.api.RScript;
import org.redisson.api.RedissonClient;
import org.redisson.client.codec.StringCodec;

/**
 * The renewal mechanism of redis-stream-client-go, modelled in Java. There, each held stream has a redsync mutex
 * (SET NX PX hb-interval, value = the consumer id) and a goroutine of its own that loops: extend the mutex, then
 * sleep hb-interval / 2; an extension that fails ends the loop with StreamDisowned. redsync's extend is one
 * conditional script call: {@code if GET == value then PEXPIRE} (with WithSetNXOnExtend: SET NX PX when the key
 * is gone).
 * <p>
 * Here each stream has a timer of its own: after each extension's reply, the next one is scheduled hb / 2 later
 * on a ScheduledExecutorService (2 threads: Java needs no thread per timer, where Go runs one goroutine per
 * stream). The extension is sent asynchronously, so the model is no slower than the Go library would be.
 */
final class PerStreamTimerHolder implements LeaseHolder {

	static final String THREAD_PREFIX = "go-model-timer";

	/** redsync's extend script (WithSetNXOnExtend), rewritten here. */
	static final String EXTEND_SCRIPT = """
			local value = redis.call('GET', KEYS[1])
			if value == ARGV[1] then
			  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
			elseif value == false and ARGV[3] == '1' then
			  if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
			end
			return 0
			""";

	static final String EXTEND_NAME = "EVALSHA extend (redsync)";

	private final CommandCounter counter = new CommandCounter();

	private final RedissonClient redisson;

	private final RScript script;

	private final String sha;

	private final String prefix;

	private final String consumer = "go-model-consumer";

	private final Duration hb;

	private final ScheduledExecutorService timers;

	private final Map<String, StreamTimer> streamLocks = new ConcurrentHashMap<>();

	private final LongAdder lost = new LongAdder();

	private volatile boolean closed;

	PerStreamTimerHolder(String uri, String prefix, Duration hb) {
		this.counter.nameScript(EXTEND_SCRIPT, "extend (redsync)");
		this.redisson = RedissonClients.create(uri, this.counter, null);
		this.script = this.redisson.getScript(StringCodec.INSTANCE);
		this.sha = this.script.scriptLoad(EXTEND_SCRIPT);
		this.prefix = prefix;
		this.hb = hb;
		AtomicInteger count = new AtomicInteger();
		this.timers = Executors.newScheduledThreadPool(2, (runnable) -> {
			Thread thread = new Thread(runnable, THREAD_PREFIX + "-" + count.incrementAndGet());
			thread.setDaemon(true);
			return thread;
		});
	}

	@Override
	public String approach() {
		return Approach.GO_MODEL;
	}

	@Override
	public int hold(List<String> streams, Duration timeout) throws InterruptedException {
		Semaphore inFlight = new Semaphore(2000);
		LongAdder held = new LongAdder();
		LongAdder refused = new LongAdder();
		long deadline = System.nanoTime() + timeout.toNanos();
		for (String stream : streams) {
			String key = this.prefix + stream;
			if (!inFlight.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
				break;
			}
			this.redisson.getBucket(key, StringCodec.INSTANCE).setIfAbsentAsync(this.consumer, this.hb).whenComplete((ok, failure) -> {
				inFlight.release();
				if (failure == null && Boolean.TRUE.equals(ok)) {
					StreamTimer timer = new StreamTimer(key);
					this.streamLocks.put(key, timer);
					held.increment();
					timer.extend();
				}
				else {
					refused.increment();
				}
			});
		}
		while (held.sum() + refused.sum() < streams.size() && System.nanoTime() - deadline < 0) {
			Thread.sleep(10);
		}
		return (int) (held.sum() - this.lost.sum());
	}

	/** The timer of one stream: extend, and after the reply schedule the next extension hb / 2 later. */
	private final class StreamTimer {

		private final String key;

		StreamTimer(String key) {
			this.key = key;
		}

		void extend() {
			if (PerStreamTimerHolder.this.closed) {
				return;
			}
			PerStreamTimerHolder.this.script
				.<Object>evalShaAsync(this.key, RScript.Mode.READ_WRITE, PerStreamTimerHolder.this.sha, RScript.ReturnType.VALUE,
						List.<Object>of(this.key), PerStreamTimerHolder.this.consumer, Long.toString(PerStreamTimerHolder.this.hb.toMillis()), "1")
				.whenComplete((reply, failure) -> {
					if (PerStreamTimerHolder.this.closed) {
						return;
					}
					if (failure != null || reply == null || "0".equals(reply.toString())) {
						PerStreamTimerHolder.this.lost.increment();
						return;
					}
					try {
						PerStreamTimerHolder.this.timers.schedule(this::extend, PerStreamTimerHolder.this.hb.toMillis() / 2,
								TimeUnit.MILLISECONDS);
					}
					catch (RuntimeException ex) {
						// closed meanwhile
					}
				});
		}

	}

	@Override
	public Duration renewalPeriod() {
		return this.hb.dividedBy(2);
	}

	@Override
	public long renewalCalls(Map<String, Long> requests) {
		return requests.getOrDefault(EXTEND_NAME, 0L);
	}

	@Override
	public long ticks() {
		return -1;
	}

	@Override
	public long lost() {
		return this.lost.sum();
	}

	@Override
	public String leaseKeyPattern() {
		return this.prefix + "*";
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
		return "SET NX PX per stream, then one timer per stream on a 2-thread ScheduledExecutorService: extend "
				+ "(one EVALSHA of redsync's conditional extend script), then the next extension hb/2 after the reply";
	}

	@Override
	public void close() {
		this.closed = true;
		this.timers.shutdownNow();
		this.redisson.shutdown();
	}

}
