package io.streamlease.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

import org.redisson.api.RLock;
import org.redisson.api.RedissonClient;

/**
 * Redisson's RLock holding one lock per stream, kept alive by Redisson's lock watchdog (lockWatchdogTimeout =
 * hb-interval; the watchdog extends every timeout / 3, in batches of lockWatchdogBatchSize = 100 locks per EVAL).
 * The RLock objects are kept, as an application must keep them to unlock.
 */
final class WatchdogLockHolder implements LeaseHolder {

	/** The thread id the locks are taken for (one owner for all, like one consumer). */
	private static final long OWNER_THREAD = 1;

	private final CommandCounter counter = new CommandCounter();

	private final RedissonClient redisson;

	private final String prefix;

	private final Duration hb;

	private final List<RLock> locks = new ArrayList<>();

	WatchdogLockHolder(String uri, String prefix, Duration hb) {
		this.redisson = RedissonClients.create(uri, this.counter, hb);
		this.prefix = prefix;
		this.hb = hb;
	}

	@Override
	public String approach() {
		return Approach.REDISSON;
	}

	@Override
	public int hold(List<String> streams, Duration timeout) throws InterruptedException {
		Semaphore inFlight = new Semaphore(2000);
		LongAdder held = new LongAdder();
		LongAdder failed = new LongAdder();
		long deadline = System.nanoTime() + timeout.toNanos();
		for (String stream : streams) {
			RLock lock = this.redisson.getLock(this.prefix + stream);
			this.locks.add(lock);
			if (!inFlight.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
				break;
			}
			lock.lockAsync(OWNER_THREAD).whenComplete((ignored, failure) -> {
				inFlight.release();
				if (failure == null) {
					held.increment();
				}
				else {
					failed.increment();
				}
			});
		}
		while (held.sum() + failed.sum() < streams.size() && System.nanoTime() - deadline < 0) {
			Thread.sleep(10);
		}
		return (int) held.sum();
	}

	@Override
	public Duration renewalPeriod() {
		return this.hb.dividedBy(3);
	}

	/**
	 * Every script call: once the locks are held, the client sends nothing but the watchdog's renewals (Redisson
	 * sends its renewal script by SHA, which the counter does not know by name; the report's request mix shows it).
	 */
	@Override
	public long renewalCalls(Map<String, Long> requests) {
		long calls = 0;
		for (Map.Entry<String, Long> entry : requests.entrySet()) {
			if (entry.getKey().startsWith("EVAL")) {
				calls += entry.getValue();
			}
		}
		return calls;
	}

	@Override
	public long ticks() {
		return -1;
	}

	@Override
	public long lost() {
		return -1;
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
		return 0;
	}

	@Override
	public String setup() {
		return "RLock.lockAsync per stream without lease time (watchdog mode), lockWatchdogTimeout = hb-interval, "
				+ "default lockWatchdogBatchSize (100)";
	}

	@Override
	public void close() {
		this.redisson.shutdown();
	}

}
