package io.streamlease.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * The figures of one scenario (all rounds with the same label) of a run.
 */
final class ScenarioStats {

	final String scenario;

	int sessions;

	long entries;

	int faults;

	int malformed;

	int deadLettered;

	/** Streams at stake in a fault that a consumer acted on again under a newer fencing token. */
	int failovers;

	/** Of those, how many another consumer id took over. */
	int failoversToPeers;

	/** Streams at stake that were finished without changing hands (the holder finished first, or kept its lease). */
	int notTakenOver;

	final List<Long> takeoverMillis = new ArrayList<>();

	final List<Long> afterHandoffMillis = new ArrayList<>();

	/** For Redis faults: from Redis answering again to the takeover. */
	final List<Long> afterRedisBackMillis = new ArrayList<>();

	/** For Redis faults: from the end of the fault to each instance's first audit record (it acts again). */
	final List<Long> actingAgainMillis = new ArrayList<>();

	/** For Redis faults: from the end of the fault to each instance's health reporting UP again. */
	final List<Long> healthUpMillis = new ArrayList<>();

	/** For Redis faults: instances whose health was watched, and how many of them reported DOWN. */
	int healthWatched;

	int healthDownSeen;

	/** For Redis faults: watched instances that stopped serving during the fault, so not judged on DOWN. */
	final List<String> healthNotJudged = new ArrayList<>();

	/** Verified sessions submitted after a fault of the round ended. */
	long sessionsAfterFault;

	/** Sessions unfinished when a wipe deleted everything: not verified. */
	int wipedSessions;

	/** Malformed entries deleted by a wipe before they were dead-lettered. */
	int wipedMalformed;

	long lostEntries;

	long doubleCountedEntries;

	int acceptedWrites;

	int rejectedStaleWrites;

	/** Entries a stale owner started to handle after a newer owner had acted (refused later by fencing). */
	int staleEntries;

	/** The longest time a stale owner went on handling entries after the newer owner's first action. */
	long staleOverlapMillis;

	ScenarioStats(String scenario) {
		this.scenario = scenario;
	}

	/**
	 * min / median / p99 / max of the takeover times, nearest rank, or "-".
	 */
	String takeoverSummary() {
		return summary(this.takeoverMillis);
	}

	static String summary(List<Long> values) {
		if (values.isEmpty()) {
			return "-";
		}
		List<Long> sorted = new ArrayList<>(values);
		sorted.sort(null);
		return sorted.get(0) + " / " + percentile(sorted, 0.5) + " / " + percentile(sorted, 0.99) + " / "
				+ sorted.get(sorted.size() - 1);
	}

	static long percentile(List<Long> sorted, double quantile) {
		int rank = (int) Math.ceil(quantile * sorted.size());
		return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
	}

	static long median(List<Long> values) {
		List<Long> sorted = new ArrayList<>(values);
		sorted.sort(null);
		return percentile(sorted, 0.5);
	}

}
