package io.streamlease.chaos;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a finished run from Redis alone: the summaries against what the feeder wrote, the LBS and its group, the
 * dead letters against the malformed bursts, and fencing against the audit stream; and times the takeovers of the
 * streams each fault put at stake (the first audit record of the stream under a newer fencing token). The instances'
 * logs are read only for what Redis cannot tell: whether an engine gave up, and when a graceful handoff happened.
 */
final class ChaosVerifier {

	private final ChaosSettings settings;

	private final RespClient redis;

	ChaosVerifier(ChaosSettings settings, RespClient redis) {
		this.settings = settings;
		this.redis = redis;
	}

	RunReport verify(String name, long durationMillis, List<String> rounds, List<SessionFeeder.Session> sessions,
			List<InjectedFault> faults, List<SampleInstance> instances) {
		RunReport report = new RunReport(name, this.settings, durationMillis);
		report.faults.addAll(faults);
		for (String round : rounds) {
			report.scenario(round);
		}
		Map<String, String> roundOfStream = new HashMap<>();
		for (SessionFeeder.Session session : sessions) {
			roundOfStream.put(session.stream(), session.round());
		}
		checkSummaries(report, sessions);
		checkLbs(report);
		checkDeadLetters(report, faults);
		List<AuditRecord> audit = AuditRecord.readAll(this.redis);
		checkFencing(report, audit, roundOfStream, sessions);
		timeTakeovers(report, audit, faults);
		checkInstances(report, instances);
		checkKeyspaceSetting(report);
		return report;
	}

	private void checkSummaries(RunReport report, List<SessionFeeder.Session> sessions) {
		List<Map<String, String>> summaries = new ArrayList<>(sessions.size());
		for (int from = 0; from < sessions.size(); from += 500) {
			List<String[]> reads = new ArrayList<>();
			for (SessionFeeder.Session session : sessions.subList(from, Math.min(sessions.size(), from + 500))) {
				reads.add(new String[] { "HGETALL", ChaosSettings.summaryKey(session.stream()) });
			}
			for (Object reply : this.redis.pipeline(reads)) {
				summaries.add(RespClient.fields((List<?>) reply));
			}
		}
		for (int i = 0; i < sessions.size(); i++) {
			SessionFeeder.Session session = sessions.get(i);
			Map<String, String> summary = summaries.get(i);
			ScenarioStats stats = report.scenario(session.round());
			stats.sessions++;
			stats.entries += session.entries();
			if (summary.isEmpty()) {
				stats.lostEntries += session.events();
				report.violations.add("session " + session.stream() + " [" + session.round() + "] has no summary: its "
						+ session.events() + " events are lost");
				continue;
			}
			long events = Long.parseLong(summary.getOrDefault("events", "0"));
			long amount = Long.parseLong(summary.getOrDefault("amount", "0"));
			if (events < session.events()) {
				stats.lostEntries += session.events() - events;
			}
			if (events > session.events()) {
				stats.doubleCountedEntries += events - session.events();
			}
			if (events != session.events() || amount != session.amount()) {
				report.violations.add("session " + session.stream() + " [" + session.round() + "]: summary has " + events
						+ " events, amount " + amount + "; " + session.events() + " events, amount " + session.amount()
						+ " were written (" + summary + ")");
			}
			if (!"0".equals(summary.get("skipped"))) {
				report.violations.add("session " + session.stream() + ": " + summary.get("skipped") + " entries skipped");
			}
		}
	}

	private void checkLbs(RunReport report) {
		long length = (Long) this.redis.call("XLEN", ChaosSettings.LBS);
		if (length != 0) {
			report.violations.add("the LBS " + ChaosSettings.LBS + " still holds " + length + " entries");
		}
		List<?> pending = (List<?>) this.redis.call("XPENDING", ChaosSettings.LBS, ChaosSettings.GROUP);
		long count = (Long) pending.get(0);
		if (count != 0) {
			report.violations.add("the group " + ChaosSettings.GROUP + " still has " + count + " pending entries: " + pending);
		}
	}

	private void checkDeadLetters(RunReport report, List<InjectedFault> faults) {
		Map<String, InjectedFault.MalformedEntry> expected = new LinkedHashMap<>();
		Map<String, String> roundOf = new HashMap<>();
		for (InjectedFault fault : faults) {
			for (InjectedFault.MalformedEntry entry : fault.malformed()) {
				expected.put(entry.marker(), entry);
				roundOf.put(entry.marker(), fault.round());
				report.scenario(fault.round()).malformed++;
			}
		}
		List<?> letters = (List<?>) this.redis.call("XRANGE", ChaosSettings.DEAD_LETTERS, "-", "+");
		Map<String, Integer> seen = new HashMap<>();
		for (Object item : letters) {
			List<?> letter = (List<?>) item;
			Map<String, String> fields = RespClient.fields((List<?>) letter.get(1));
			String marker = fields.get(FaultInjector.MARKER);
			String reason = fields.get("dead-letter.reason");
			InjectedFault.MalformedEntry wanted = (marker != null) ? expected.get(marker) : null;
			if (wanted == null) {
				report.violations.add("unexpected dead letter " + letter.get(0) + ": reason " + reason + ", detail "
						+ fields.get("dead-letter.detail") + ", stream " + fields.get("dead-letter.stream"));
				continue;
			}
			int count = seen.merge(marker, 1, Integer::sum);
			if (count == 1) {
				report.scenario(roundOf.get(marker)).deadLettered++;
			}
			else if (!wanted.retried()) {
				report.violations.add("malformed LBS entry " + marker + " was dead-lettered " + count + " times");
			}
			if (!wanted.reason().equals(reason)) {
				report.violations.add("malformed LBS entry " + marker + " (LBS id " + fields.get("dead-letter.lbs-id")
						+ ") was dead-lettered with reason " + reason + ", expected " + wanted.reason());
			}
		}
		for (InjectedFault.MalformedEntry entry : expected.values()) {
			if (!seen.containsKey(entry.marker())) {
				report.violations.add("malformed LBS entry " + entry.marker() + " (" + entry.reason()
						+ ") is not in the dead-letter stream");
			}
		}
	}

	/**
	 * One consumer per (stream, token); accepted summary writes in non-decreasing token order, never below the
	 * stored token; the final stored token the greatest accepted one.
	 */
	private void checkFencing(RunReport report, List<AuditRecord> audit, Map<String, String> roundOfStream,
			List<SessionFeeder.Session> sessions) {
		Map<String, String> actorOfToken = new HashMap<>();
		Map<String, Long> maxToken = new HashMap<>();
		Map<String, Long> maxAccepted = new HashMap<>();
		for (AuditRecord record : audit) {
			String round = roundOfStream.getOrDefault(record.stream(), "?");
			String key = record.stream() + "\n" + record.token();
			String actor = actorOfToken.putIfAbsent(key, record.consumer());
			if (actor != null && !actor.equals(record.consumer())) {
				report.violations.add("fencing: consumers " + actor + " and " + record.consumer() + " both acted on "
						+ record.stream() + " with fencing token " + record.token() + " (audit " + record.id() + ")");
			}
			long newest = maxToken.getOrDefault(record.stream(), Long.MIN_VALUE);
			if (record.summary()) {
				if (record.accepted()) {
					report.scenario(round).acceptedWrites++;
					long accepted = maxAccepted.getOrDefault(record.stream(), Long.MIN_VALUE);
					if (record.token() < accepted || (record.stored() != null && record.token() < record.stored())) {
						report.violations.add("fencing: a summary write of " + record.stream() + " with stale token "
								+ record.token() + " by " + record.consumer() + " was accepted (greatest accepted so far "
								+ accepted + ", stored " + record.stored() + "; audit " + record.id() + ")");
					}
					maxAccepted.merge(record.stream(), record.token(), Math::max);
				}
				else {
					report.scenario(round).rejectedStaleWrites++;
					report.rejectedWrites.add("rejected summary write of " + record.stream() + " [" + round + "] by "
							+ record.consumer() + " with token " + record.token() + ", stored " + record.stored()
							+ ", at " + Instant.ofEpochMilli(record.time()) + " (audit " + record.id() + ")");
					if (record.stored() == null || record.token() >= record.stored()) {
						report.violations.add("a summary write of " + record.stream() + " with token " + record.token()
								+ " was rejected though the stored token was " + record.stored() + " (audit " + record.id() + ")");
					}
				}
			}
			else if (record.token() < newest) {
				report.scenario(round).staleEntries++;
			}
			maxToken.merge(record.stream(), record.token(), Math::max);
		}
		List<String[]> reads = new ArrayList<>();
		for (SessionFeeder.Session session : sessions) {
			reads.add(new String[] { "HGET", ChaosSettings.summaryKey(session.stream()), "fencingToken" });
		}
		List<Object> stored = reads.isEmpty() ? List.of() : this.redis.pipeline(reads);
		for (int i = 0; i < sessions.size(); i++) {
			String stream = sessions.get(i).stream();
			Long accepted = maxAccepted.get(stream);
			Object token = stored.get(i);
			if (token == null) {
				continue;
			}
			if (accepted == null) {
				report.violations.add("the summary of " + stream + " carries token " + token
						+ " but the audit has no accepted write of it");
			}
			else if (Long.parseLong(token.toString()) != accepted) {
				report.violations.add("the summary of " + stream + " carries token " + token
						+ " but the greatest accepted write had " + accepted);
			}
		}
		report.notes.add(audit.size() + " audit records checked: every (stream, fencing token) was acted on by one "
				+ "consumer only" + (report.violations.stream().anyMatch((v) -> v.startsWith("fencing")) ? " -- NOT" : ""));
	}

	/**
	 * For each stream a fault put at stake, the first audit record under a newer token: a failover, timed from the
	 * start of the fault. A stopped instance must stop acting on the streams it held once it is continued.
	 */
	private void timeTakeovers(RunReport report, List<AuditRecord> audit, List<InjectedFault> faults) {
		Map<String, List<AuditRecord>> byStream = new HashMap<>();
		for (AuditRecord record : audit) {
			byStream.computeIfAbsent(record.stream(), (s) -> new ArrayList<>()).add(record);
		}
		long grace = this.settings.hbInterval().toMillis();
		List<String[]> slowest = new ArrayList<>();
		for (InjectedFault fault : faults) {
			ScenarioStats stats = report.scenario(fault.round());
			stats.faults++;
			// a handoff while Redis is away cannot reach peers before Redis is back: no handoff timing then
			boolean redisAway = faults.stream()
				.anyMatch((other) -> other.kind().redisFault() && other.round().equals(fault.round()));
			for (InjectedFault.HeldLease lease : fault.held().values()) {
				AuditRecord takeover = null;
				for (AuditRecord record : byStream.getOrDefault(lease.stream(), List.of())) {
					if (record.token() > lease.token() && record.time() >= fault.startMillis() - 1000) {
						takeover = record;
						break;
					}
				}
				if (takeover == null) {
					stats.notTakenOver++;
				}
				else {
					stats.failovers++;
					if (!takeover.consumer().equals(lease.consumer())) {
						stats.failoversToPeers++;
					}
					long millis = Math.max(0, takeover.time() - fault.startMillis());
					stats.takeoverMillis.add(millis);
					if (fault.handoff() != null && !redisAway) {
						stats.afterHandoffMillis.add(takeover.time() - fault.handoff().atMillis());
					}
					if (fault.kind().redisFault()) {
						stats.afterRedisBackMillis.add(takeover.time() - fault.endMillis());
					}
					slowest.add(new String[] { Long.toString(millis), lease.stream() + " after " + fault.describe() + " at "
							+ Instant.ofEpochMilli(fault.startMillis()) + ": held by " + lease.consumer() + " (token "
							+ lease.token() + "), taken over by " + takeover.consumer() + " (token " + takeover.token()
							+ ") after " + millis + " ms" });
				}
				if (fault.kind() == FaultKind.PAUSE_INSTANCE) {
					for (AuditRecord record : byStream.getOrDefault(lease.stream(), List.of())) {
						if (record.consumer().equals(fault.victim()) && record.token() == lease.token()
								&& record.time() > fault.endMillis() + grace) {
							report.violations.add(fault.victim() + " kept acting on " + lease.stream() + " with its old token "
									+ lease.token() + " " + (record.time() - fault.endMillis()) + " ms after SIGCONT (audit "
									+ record.id() + ")");
						}
					}
				}
			}
			for (String consumer : fault.bystanders()) {
				boolean actedAgain = audit.stream()
					.anyMatch((record) -> record.consumer().equals(consumer) && record.time() > fault.endMillis());
				if (!actedAgain) {
					report.violations.add(consumer + " never acted again after " + fault.describe() + " at "
							+ Instant.ofEpochMilli(fault.startMillis()) + " (did its engine reconnect?)");
				}
			}
			if (fault.kind() == FaultKind.GRACEFUL_STOP) {
				if (fault.handoff() == null) {
					report.unmetExpectations.add(fault.victim() + " did not log a handoff on SIGTERM");
				}
			}
		}
		slowest.sort((a, b) -> Long.compare(Long.parseLong(b[0]), Long.parseLong(a[0])));
		for (String[] takeover : slowest.subList(0, Math.min(5, slowest.size()))) {
			report.slowestTakeovers.add(takeover[1]);
		}
		for (ScenarioStats stats : report.scenarios.values()) {
			if (!stats.afterHandoffMillis.isEmpty()) {
				long median = ScenarioStats.median(stats.afterHandoffMillis);
				if (median >= this.settings.hbInterval().toMillis() / 2) {
					report.unmetExpectations.add(stats.scenario + ": handed-off sessions were taken over a median " + median
							+ " ms after the handoff, not well before the lease TTL (" + this.settings.hbInterval().toMillis()
							+ " ms)");
				}
			}
		}
	}

	private void checkInstances(RunReport report, List<SampleInstance> instances) {
		int lost = 0;
		for (SampleInstance instance : instances) {
			for (String line : instance.lines()) {
				if (line.contains("Stream Lease engine of service") && line.contains("terminated")) {
					report.violations.add(instance + " gave up: " + line);
				}
				if (line.contains(" lost stream ")) {
					lost++;
				}
			}
		}
		report.notes.add(instances.size() + " sample-app processes ran; their engines logged " + lost
				+ " lost (disowned) streams");
	}

	private void checkKeyspaceSetting(RunReport report) {
		if (this.settings.keyspaceOff()) {
			List<?> reply = (List<?>) this.redis.call("CONFIG", "GET", "notify-keyspace-events");
			String flags = (reply.size() > 1) ? String.valueOf(reply.get(1)) : "";
			if (!flags.isEmpty()) {
				report.violations.add("notify-keyspace-events is '" + flags + "' though every instance runs with "
						+ "keyspace-notifications=off");
			}
			else {
				report.notes.add("keyspace notifications stayed off (notify-keyspace-events empty): every takeover came "
						+ "from the sweep or a handoff message");
			}
		}
	}

}
