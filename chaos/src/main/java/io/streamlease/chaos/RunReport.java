package io.streamlease.chaos;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one chaos run found: figures per scenario, and every violation. A violation is a broken promise: a lost or
 * double-counted entry, a session without a summary, a fencing violation, an LBS entry left behind, a wrong dead
 * letter, an instance that kept acting after it was disowned, an engine that gave up. An unmet expectation is a
 * behaviour with a timing in it (peers claim a handed-off stream well before the TTL).
 */
final class RunReport {

	final String name;

	final ChaosSettings settings;

	final long durationMillis;

	/** The Redis of the run, as {@link RedisTopology#describe()} says. */
	String redis;

	final Map<String, ScenarioStats> scenarios = new LinkedHashMap<>();

	final List<String> violations = new ArrayList<>();

	final List<String> unmetExpectations = new ArrayList<>();

	final List<String> notes = new ArrayList<>();

	final List<InjectedFault> faults = new ArrayList<>();

	/** The slowest takeovers of the run, one line each. */
	final List<String> slowestTakeovers = new ArrayList<>();

	/** The summary writes that fencing refused, one line each. */
	final List<String> rejectedWrites = new ArrayList<>();

	RunReport(String name, ChaosSettings settings, long durationMillis) {
		this.name = name;
		this.settings = settings;
		this.durationMillis = durationMillis;
	}

	ScenarioStats scenario(String label) {
		return this.scenarios.computeIfAbsent(label, ScenarioStats::new);
	}

	ScenarioStats total() {
		ScenarioStats total = new ScenarioStats("total");
		for (ScenarioStats stats : this.scenarios.values()) {
			total.sessions += stats.sessions;
			total.entries += stats.entries;
			total.faults += stats.faults;
			total.malformed += stats.malformed;
			total.deadLettered += stats.deadLettered;
			total.failovers += stats.failovers;
			total.failoversToPeers += stats.failoversToPeers;
			total.notTakenOver += stats.notTakenOver;
			total.takeoverMillis.addAll(stats.takeoverMillis);
			total.afterHandoffMillis.addAll(stats.afterHandoffMillis);
			total.afterRedisBackMillis.addAll(stats.afterRedisBackMillis);
			total.actingAgainMillis.addAll(stats.actingAgainMillis);
			total.healthUpMillis.addAll(stats.healthUpMillis);
			total.healthWatched += stats.healthWatched;
			total.healthDownSeen += stats.healthDownSeen;
			total.sessionsAfterFault += stats.sessionsAfterFault;
			total.wipedSessions += stats.wipedSessions;
			total.wipedMalformed += stats.wipedMalformed;
			total.lostEntries += stats.lostEntries;
			total.doubleCountedEntries += stats.doubleCountedEntries;
			total.acceptedWrites += stats.acceptedWrites;
			total.rejectedStaleWrites += stats.rejectedStaleWrites;
			total.staleEntries += stats.staleEntries;
			total.staleOverlapMillis = Math.max(total.staleOverlapMillis, stats.staleOverlapMillis);
		}
		return total;
	}

	boolean passed() {
		return this.violations.isEmpty() && this.unmetExpectations.isEmpty();
	}

	/**
	 * The report as markdown: the settings, the table, the notes and every violation.
	 */
	String markdown() {
		StringBuilder out = new StringBuilder();
		out.append("### ").append(this.name).append("\n\n");
		out.append("- ").append(this.settings.instances()).append(" sample-app processes (`-Xmx")
			.append(this.settings.heap()).append("`) started at the same moment, hb-interval ")
			.append(this.settings.hbInterval().toMillis()).append(" ms, shutdown grace ")
			.append(this.settings.gracePeriod().toMillis()).append(" ms, keyspace-notifications `")
			.append(this.settings.keyspaceNotifications())
			.append("`, the starter's defaults otherwise (retries unlimited), processing delay ")
			.append(this.settings.processingDelay().toMillis()).append(" ms per entry\n");
		if (this.redis != null) {
			out.append("- Redis: ").append(this.redis).append('\n');
		}
		out.append("- load: ").append(this.settings.sessionsPerSecond()).append(" sessions/s of ")
			.append(this.settings.minEvents()).append("-").append(this.settings.maxEvents())
			.append(" events; faults: instance SIGSTOP ").append(this.settings.instancePause().toMillis())
			.append(" ms, Redis SIGSTOP ").append(this.settings.redisPause().toMillis()).append(" ms (short) or ")
			.append(this.settings.redisLongPause().toMillis()).append(" ms (long), Redis down ")
			.append(this.settings.redisDowntime().toMillis()).append(" ms per restart or wipe, bursts of ")
			.append(this.settings.malformedBurst()).append(" malformed entries; seed ").append(this.settings.seed())
			.append("\n");
		out.append("- duration ").append(Math.round(this.durationMillis / 1000.0)).append(" s; result: **")
			.append(passed() ? "passed" : "FAILED").append("**\n\n");
		out.append("| scenario | sessions verified | entries | faults injected | failovers (to a peer) | fault → takeover ms "
				+ "(min / median / p99 / max) | lost | double-counted | stale writes rejected | stale entries handled "
				+ "| sessions after the fault | wiped |\n");
		out.append("|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|\n");
		List<ScenarioStats> rows = new ArrayList<>(this.scenarios.values());
		rows.add(total());
		for (ScenarioStats stats : rows) {
			boolean total = stats.scenario.equals("total");
			out.append("| ").append(total ? "**total**" : stats.scenario).append(" | ").append(stats.sessions)
				.append(" | ").append(stats.entries).append(" | ").append(stats.faults)
				.append((stats.malformed > 0) ? " (" + stats.malformed + " malformed entries, " + stats.deadLettered
						+ " dead-lettered)" : "")
				.append(" | ").append(stats.failovers).append(" (").append(stats.failoversToPeers).append(") | ")
				.append(stats.takeoverSummary()).append(" | ").append(stats.lostEntries).append(" | ")
				.append(stats.doubleCountedEntries).append(" | ").append(stats.rejectedStaleWrites).append(" | ")
				.append(stats.staleEntries).append(" | ").append(stats.sessionsAfterFault).append(" | ")
				.append(stats.wipedSessions)
				.append((stats.wipedMalformed > 0) ? " (+" + stats.wipedMalformed + " malformed)" : "").append(" |\n");
		}
		out.append('\n');
		for (ScenarioStats stats : this.scenarios.values()) {
			if (!stats.afterHandoffMillis.isEmpty()) {
				out.append("- ").append(stats.scenario).append(": handoff logged → takeover ms (min / median / p99 / max): ")
					.append(ScenarioStats.summary(stats.afterHandoffMillis)).append('\n');
			}
			if (!stats.afterRedisBackMillis.isEmpty()) {
				out.append("- ").append(stats.scenario).append(": Redis answering again → takeover ms (min / median / p99 / max): ")
					.append(ScenarioStats.summary(stats.afterRedisBackMillis)).append('\n');
			}
			if (stats.staleEntries > 0) {
				out.append("- ").append(stats.scenario).append(": ").append(stats.staleEntries)
					.append(" stale entries handled, the last one ").append(stats.staleOverlapMillis)
					.append(" ms after the stream's newer owner first acted (two owners at once that long)\n");
			}
			if (stats.healthWatched > 0) {
				out.append("- ").append(stats.scenario).append(": health DOWN during the fault on ")
					.append(stats.healthDownSeen).append(" of ").append(stats.healthWatched)
					.append(" instances serving from before the fault until its end");
				if (!stats.healthNotJudged.isEmpty()) {
					out.append(" (not judged, as they stopped serving during it: ")
						.append(String.join("; ", stats.healthNotJudged)).append(')');
				}
				out.append("; Redis answering again → health UP ms (min / median / p99 / max): ")
					.append(ScenarioStats.summary(stats.healthUpMillis)).append("; → acting under a new lease ms: ")
					.append(ScenarioStats.summary(stats.actingAgainMillis)).append('\n');
			}
		}
		for (String note : this.notes) {
			out.append("- ").append(note).append('\n');
		}
		if (!this.violations.isEmpty()) {
			out.append("\n**Violations**\n\n");
			appendCapped(out, this.violations);
		}
		if (!this.unmetExpectations.isEmpty()) {
			out.append("\n**Unmet expectations**\n\n");
			appendCapped(out, this.unmetExpectations);
		}
		if (!this.slowestTakeovers.isEmpty()) {
			out.append("\n<details><summary>Slowest takeovers</summary>\n\n");
			appendCapped(out, this.slowestTakeovers);
			out.append("\n</details>\n");
		}
		if (!this.rejectedWrites.isEmpty()) {
			out.append("\n<details><summary>Stale writes rejected</summary>\n\n");
			appendCapped(out, this.rejectedWrites);
			out.append("\n</details>\n");
		}
		out.append("\n<details><summary>Faults injected</summary>\n\n");
		for (InjectedFault fault : this.faults) {
			out.append("- [").append(fault.round()).append("] ").append(fault.describe()).append(" at ")
				.append(java.time.Instant.ofEpochMilli(fault.startMillis())).append(": ")
				.append(fault.endMillis() - fault.startMillis()).append(" ms, ").append(fault.held().size())
				.append(" lease(s) at stake");
			if (fault.health() != null) {
				HealthWatch.Recovery health = fault.health().recovery();
				out.append("; health DOWN on ").append(health.sawDown());
				if (!health.notServingThrough().isEmpty()) {
					out.append(" (not serving through the fault: ").append(health.notServingThrough()).append(')');
				}
				out.append(", UP again after (ms) ")
					.append(health.upAfterMillis()).append(", statuses seen ").append(health.statuses())
					.append(", slowest health answer (ms) ").append(health.slowestAnswerMillis());
				if (!health.downReason().isEmpty()) {
					out.append("; first DOWN reason: ").append(abbreviate(health.downReason().values().iterator().next()));
				}
			}
			out.append('\n');
		}
		out.append("\n</details>\n");
		return out.toString();
	}

	private static String abbreviate(String text) {
		String line = String.valueOf(text).replace('\n', ' ').replace("|", "\\|");
		return (line.length() > 200) ? line.substring(0, 200) + "..." : line;
	}

	private static void appendCapped(StringBuilder out, List<String> lines) {
		int shown = Math.min(lines.size(), 30);
		for (int i = 0; i < shown; i++) {
			out.append("- ").append(lines.get(i)).append('\n');
		}
		if (lines.size() > shown) {
			out.append("- ... and ").append(lines.size() - shown).append(" more\n");
		}
	}

}
