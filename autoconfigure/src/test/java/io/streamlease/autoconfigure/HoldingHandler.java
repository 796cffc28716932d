package io.streamlease.autoconfigure;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import io.streamlease.LeasedStream;
import io.streamlease.StreamHandler;

/**
 * A stream-level handler that keeps each stream until the test releases it, so that the stream stays held.
 */
class HoldingHandler {

	static final String ID = "holding";

	private final Map<String, CountDownLatch> releases = new ConcurrentHashMap<>();

	private final Set<String> started = ConcurrentHashMap.newKeySet();

	private volatile boolean releasedAll;

	@StreamHandler(id = ID)
	void hold(LeasedStream stream) throws InterruptedException {
		this.started.add(stream.name());
		latch(stream.name()).await(30, TimeUnit.SECONDS);
	}

	boolean hasStarted(String stream) {
		return this.started.contains(stream);
	}

	void release(String stream) {
		latch(stream).countDown();
	}

	/** Releases every stream, including those that start later. */
	void releaseAll() {
		this.releasedAll = true;
		this.releases.values().forEach(CountDownLatch::countDown);
	}

	private CountDownLatch latch(String stream) {
		CountDownLatch latch = this.releases.computeIfAbsent(stream, (name) -> new CountDownLatch(1));
		if (this.releasedAll) {
			latch.countDown();
		}
		return latch;
	}

}
