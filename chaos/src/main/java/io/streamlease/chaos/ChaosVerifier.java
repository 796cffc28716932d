package io.streamlease.chaos;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a finished run from Redis alone: the summaries against what the feeder wrote, the LBS and its group, the
 * dead letters against the malformed bursts, and fencing against the audit stream; and times the takeovers of the
 * streams each fault put at stake (the first audit record of the stream under a newer fencing token) and the
 * recovery after each Redis fault (health UP again, every instance acting again). What a wipe deleted is taken from
 * the {@link WipeArchive} read just before it; sessions that were unfinished then are counted as wiped, not verified.
 * The instances' logs are read only for what Redis cannot tell: whether an engine gave up, and when a graceful
 * handoff happened.
 */
final class ChaosVerifier {

	/** A Redis fault at least this long must show in every instance's health (DOWN while Redis is away). */
	private static final long HEALTH_DOWN_EXPECTED_MILLIS = 6_000;

	private final ChaosSettings settings;

	private final RespClient redis;

	private final WipeArchive archive;

	ChaosVerifier(ChaosSettings settings, RespClient redis, WipeArchive archive) {
		this.settings = settings;
		this.redis = redis;
		this.archive = archive;
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
		List<AuditRecord> audit = this.archive.audit();
		audit.addAll(AuditRecord.readAll(this.redis));
		checkFencing(report, audit, roundOfStream, sessions);
		timeTakeovers(report, audit, faults);
		countSessionsAfterFaults(report, sessions, faults);
		checkInstances(report, instances);
		checkKeyspaceSetting(report);
		if (this.archive.any()) {
			report.notes.add(this.archive.wipedStreams().size() + " sessions were unfinished when Redis was wiped: their "
					+ "data is gone, they are not verified; sessions finished before a wipe were verified from what the "
					+ "harness read just before it");
		}
		return report;
	}

	/**
	 * The pending count of the group; 0 when neither the LBS nor its group exists (just after a wipe, before anything
	 * was submitted again).
	 */
	static long pending(RespClient redis, long lbsLength) {
		try {
			return (Long) ((List<?>) redis.call("XPENDING", ChaosSettings.LBS, ChaosSettings.GROUP)).get(0);
		}
		catch (RespClient.RedisErrorException ex) {
			if (lbsLength == 0 && String.valueOf(ex.getMessage()).startsWith("NOGROUP")) {
				return 0;
			}
			throw ex;
		}
	}

	private void checkSummaries(RunReport report, List<SessionFeeder.Session> sessions) {
		Map<String, Map<String, String>> summaries = readSummaries(sessions);
		for (SessionFeeder.Session session : sessions) {
			ScenarioStats stats = report.scenario(session.round());
			if (this.archive.isWiped(session.stream())) {
				stats.wipedSessions++;
				continue;
			}
			Map<String, String> summary = summaries.get(session.stream());
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

	/**
	 * The summary of each session (empty when it has none): from the archive for a session finished before a wipe,
	 * else from Redis.
	 */
	private Map<String, Map<String, String>> readSummaries(List<SessionFeeder.Session> sessions) {
		Map<String, Map<String, String>> summaries = new HashMap<>();
		List<String> unarchived = new ArrayList<>();
		for (SessionFeeder.Session session : sessions) {
			Map<String, String> archived = this.archive.summary(session.stream());
			if (archived != null) {
				summaries.put(session.stream(), archived);
			}
			else {
				unarchived.add(session.stream());
			}
		}
		for (int from = 0; from < unarchived.size(); from += 500) {
			List<String> page = unarchived.subList(from, Math.min(unarchived.size(), from + 500));
			List<String[]> reads = new ArrayList<>();
			for (String stream : page) {
				reads.add(new String[] { "HGETALL", ChaosSettings.summaryKey(stream) });
			}
			List<Object> replies = this.redis.pipeline(reads);
			for (int i = 0; i < page.size(); i++) {
				summaries.put(page.get(i), RespClient.fields((List<?>) replies.get(i)));
			}
		}
		return summaries;
	}

	private void checkLbs(RunReport report) {
		long length = (Long) this.redis.call("XLEN", ChaosSettings.LBS);
		if (length != 0) {
			report.violations.add("the LBS " + ChaosSettings.LBS + " still holds " + length + " entries");
		}
		long count = pending(this.redis, length);
		if (count != 0) {
			report.violations.add("the group " + ChaosSettings.GROUP + " still has " + count + " pending entries: "
					+ this.redis.call("XPENDING", ChaosSettings.LBS, ChaosSettings.GROUP));
		}
		if (length != 0) {
			describeStuckEntries(report);
		}
	}

	/**
	 * For each entry left in the LBS (at most 10): its announcement, whom it is pending for, and the stream's
	 * ownership record, so that a stuck stream can be diagnosed from the report.
	 */
	private void describeStuckEntries(RunReport report) {
		Map<String, String> owners = RespClient.fields((List<?>) this.redis.call("HGETALL", ChaosSettings.OWNERS));
		Map<String, String> sessions = RespClient.fields((List<?>) this.redis.call("HGETALL", ChaosSettings.SESSIONS));
		Map<String, String> pendingFor = new HashMap<>();
		try {
			for (Object item : (List<?>) this.redis.call("XPENDING", ChaosSettings.LBS, ChaosSettings.GROUP, "-", "+",
					"10")) {
				List<?> entry = (List<?>) item;
				pendingFor.put(String.valueOf(entry.get(0)), "pending for " + entry.get(1) + ", idle " + entry.get(2)
						+ " ms, delivered " + entry.get(3) + " times");
			}
		}
		catch (RespClient.RedisErrorException ex) {
			// no group: nothing is pending
		}
		for (Object item : (List<?>) this.redis.call("XRANGE", ChaosSettings.LBS, "-", "+", "COUNT", "10")) {
			List<?> entry = (List<?>) item;
			String id = String.valueOf(entry.get(0));
			String input = RespClient.fields((List<?>) entry.get(1)).get("lbs-input");
			String stream = (input != null) ? input.replaceAll("^.*\"DataStreamName\":\"([^\"]*)\".*$", "$1") : null;
			report.violations.add("LBS entry " + id + " (" + ((input != null && input.length() > 120)
					? input.substring(0, 120) + "..." : input) + "): " + pendingFor.getOrDefault(id, "not pending")
					+ "; ownership record of " + stream + ": " + owners.get(stream) + " (current sessions " + sessions
					+ ")");
		}
	}

	private void checkDeadLetters(RunReport report, List<InjectedFault> faults) {
		List<List<?>> archived = this.archive.deadLetters();
		Set<String> archivedMarkers = new HashSet<>();
		for (List<?> letter : archived) {
			archivedMarkers.add(RespClient.fields((List<?>) letter.get(1)).get(FaultInjector.MARKER));
		}
		Map<String, InjectedFault.MalformedEntry> expected = new LinkedHashMap<>();
		Map<String, String> roundOf = new HashMap<>();
		for (InjectedFault fault : faults) {
			for (InjectedFault.MalformedEntry entry : fault.malformed()) {
				if (this.archive.wipedAfter(entry.writtenMillis()) && !archivedMarkers.contains(entry.marker())) {
					// written before a wipe and not dead-lettered by then: deleted with everything else
					report.scenario(fault.round()).wipedMalformed++;
					continue;
				}
				expected.put(entry.marker(), entry);
				roundOf.put(entry.marker(), fault.round());
				report.scenario(fault.round()).malformed++;
			}
		}
		List<Object> letters = new ArrayList<>(archived);
		letters.addAll((List<?>) this.redis.call("XRANGE", ChaosSettings.DEAD_LETTERS, "-", "+"));
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
		Map<String, Long> firstActionOfNewest = new HashMap<>();
		for (AuditRecord record : audit) {
			String round = roundOfStream.getOrDefault(record.stream(), "?");
			String key = record.stream() + "\n" + record.token();
			String actor = actorOfToken.putIfAbsent(key, record.consumer());
			if (actor != null && !actor.equals(record.consumer())) {
				report.violations.add("fencing: consumers " + actor + " and " + record.consumer() + " both acted on "
						+ record.stream() + " with fencing token " + record.token() + " (audit " + record.id() + ")");
			}
			long newest = maxToken.getOrDefault(record.stream(), Long.MIN_VALUE);
			if (record.summary() && this.archive.isWiped(record.stream())) {
				// the stored token may have been wiped between two writes: only one consumer per token is checked
				continue;
			}
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
				ScenarioStats stats = report.scenario(round);
				stats.staleEntries++;
				// how long after the newer owner first acted the stale one still handled an entry
				stats.staleOverlapMillis = Math.max(stats.staleOverlapMillis,
						record.time() - firstActionOfNewest.getOrDefault(record.stream(), record.time()));
			}
			if (record.token() > newest) {
				firstActionOfNewest.put(record.stream(), record.time());
			}
			maxToken.merge(record.stream(), record.token(), Math::max);
		}
		Map<String, Map<String, String>> summaries = readSummaries(sessions);
		for (SessionFeeder.Session session : sessions) {
			String stream = session.stream();
			if (this.archive.isWiped(stream)) {
				// a stale owner may write the summary of a wiped session into the empty Redis: no token is left to
				// refuse it, and the session is not verified
				continue;
			}
			Long accepted = maxAccepted.get(stream);
			String token = summaries.get(stream).get("fencingToken");
			if (token == null) {
				continue;
			}
			if (accepted == null) {
				report.violations.add("the summary of " + stream + " carries token " + token
						+ " but the audit has no accepted write of it");
			}
			else if (Long.parseLong(token) != accepted) {
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
				if (this.archive.isWiped(lease.stream())) {
					stats.notTakenOver++;
					continue;
				}
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
			// acting again means under a lease taken after the fault: commands queued while Redis was frozen run just
			// after it answers again, whatever the engine does next
			Set<String> leasesBefore = new HashSet<>();
			for (AuditRecord record : audit) {
				if (record.time() < fault.startMillis()) {
					leasesBefore.add(record.stream() + "\n" + record.token());
				}
			}
			for (String consumer : fault.bystanders()) {
				AuditRecord actedAgain = audit.stream()
					.filter((record) -> record.consumer().equals(consumer) && record.time() > fault.endMillis()
							&& !leasesBefore.contains(record.stream() + "\n" + record.token()))
					.findFirst()
					.orElse(null);
				if (actedAgain == null) {
					String what = consumer + " never acted again under a new lease after " + fault.describe() + " at "
							+ Instant.ofEpochMilli(fault.startMillis());
					if (fault.health() == null) {
						report.violations.add(what + " (did its engine reconnect?)");
					}
					else {
						// its health tells whether it reconnected (checked below); it may just have got no new work
						report.notes.add(what + ": it got no new work (its health: "
								+ fault.health().recovery().lastHealth().get(consumer) + ")");
					}
				}
				else {
					stats.actingAgainMillis.add(actedAgain.time() - fault.endMillis());
				}
			}
			checkHealthThrough(report, stats, fault);
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

	/**
	 * Through a Redis fault every watched instance's health must be UP again afterwards; a fault long enough that
	 * every engine must have noticed it must also have shown as DOWN on every instance that served from before the
	 * fault until its end (not on one killed, stopped or replaced meanwhile by an instance fault of the same round).
	 */
	private void checkHealthThrough(RunReport report, ScenarioStats stats, InjectedFault fault) {
		if (fault.health() == null) {
			return;
		}
		HealthWatch.Recovery health = fault.health().recovery();
		List<String> servingThrough = health.servingThrough();
		stats.healthWatched += servingThrough.size();
		stats.healthDownSeen += (int) servingThrough.stream().filter(health.sawDown()::contains).count();
		health.notServingThrough().forEach((consumer, what) -> stats.healthNotJudged.add(consumer + ": " + what));
		stats.healthUpMillis.addAll(health.upAfterMillis().values());
		for (String consumer : health.watched()) {
			if (!health.upAfterMillis().containsKey(consumer)) {
				report.violations.add("health of " + consumer + " was not UP again within 90 s after " + fault.describe()
						+ " ended at " + Instant.ofEpochMilli(fault.endMillis()) + " (last: "
						+ health.lastHealth().get(consumer) + ")");
			}
			// only a process that served from before the fault until its end can be expected to have shown it
			if (servingThrough.contains(consumer) && !health.sawDown().contains(consumer)
					&& fault.endMillis() - fault.startMillis() >= HEALTH_DOWN_EXPECTED_MILLIS) {
				report.unmetExpectations.add("health of " + consumer + " never reported DOWN during " + fault.describe()
						+ " (" + (fault.endMillis() - fault.startMillis()) + " ms without Redis)");
			}
		}
	}

	/**
	 * Counts, per fault, the verified sessions of its round submitted after it ended: work submitted after the fault
	 * must be processed (each is checked exactly with the others).
	 */
	private static void countSessionsAfterFaults(RunReport report, List<SessionFeeder.Session> sessions,
			List<InjectedFault> faults) {
		for (InjectedFault fault : faults) {
			if (fault.kind() == FaultKind.MALFORMED_BURST) {
				continue;
			}
			long after = sessions.stream()
				.filter((session) -> session.round().equals(fault.round()) && session.submittedAt() > fault.endMillis())
				.count();
			report.scenario(fault.round()).sessionsAfterFault += after;
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
