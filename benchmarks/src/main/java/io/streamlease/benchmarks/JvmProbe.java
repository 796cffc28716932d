package io.streamlease.benchmarks;

import java.lang.management.ManagementFactory;

/**
 * Heap and thread counts of this JVM. Heap is read after full collections, so that the difference between two
 * readings is what stays reachable.
 */
final class JvmProbe {

	private JvmProbe() {
	}

	/** Used heap in bytes after two full collections. */
	static long usedHeapAfterGc() {
		for (int i = 0; i < 2; i++) {
			System.gc();
			pause(150);
		}
		return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
	}

	/** Live threads of this JVM. */
	static int threads() {
		return ManagementFactory.getThreadMXBean().getThreadCount();
	}

	static void pause(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("Interrupted", ex);
		}
	}

}
