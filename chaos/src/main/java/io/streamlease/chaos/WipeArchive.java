package io.streamlease.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the harness read from Redis just before each wipe (a kill without persistence deletes everything): the
 * summaries of the sessions that were finished by then, the audit records and the dead letters. A session that was
 * not finished is <em>wiped</em>: its data is gone and it cannot be verified; everything else is verified exactly,
 * from this archive for what came before the wipe and from Redis for what came after.
 * <p>
 * The feeder is paused while the archive is read and Redis is killed and started again, so every session was
 * submitted either before the snapshot or after the restart.
 */
final class WipeArchive {

	private static final Logger logger = LoggerFactory.getLogger(WipeArchive.class);

	private final Map<String, Map<String, String>> summaries = new HashMap<>();

	private final Set<String> wiped = new LinkedHashSet<>();

	private final List<AuditRecord> audit = new ArrayList<>();

	private final List<List<?>> deadLetters = new ArrayList<>();

	private final List<Long> wipes = new ArrayList<>();

	private final Set<String> drainedRounds = new LinkedHashSet<>();

	/**
	 * Reads what a wipe is about to delete: the summaries first (so that the audit read next has every accepted
	 * write of each archived summary), then the audit and the dead letters. Sessions without a summary are wiped,
	 * except those of a round that was drained before (they should have been finished): they are archived without a
	 * summary, and so reported as lost.
	 * @param sessions every session submitted so far (the feeder is paused)
	 */
	synchronized void snapshot(RespClient redis, List<SessionFeeder.Session> sessions) {
		List<SessionFeeder.Session> open = new ArrayList<>();
		for (SessionFeeder.Session session : sessions) {
			if (!this.summaries.containsKey(session.stream()) && !this.wiped.contains(session.stream())) {
				open.add(session);
			}
		}
		int finished = 0;
		for (int from = 0; from < open.size(); from += 500) {
			List<SessionFeeder.Session> page = open.subList(from, Math.min(open.size(), from + 500));
			List<String[]> reads = new ArrayList<>();
			for (SessionFeeder.Session session : page) {
				reads.add(new String[] { "HGETALL", ChaosSettings.summaryKey(session.stream()) });
			}
			List<Object> replies = redis.pipeline(reads);
			for (int i = 0; i < page.size(); i++) {
				Map<String, String> summary = RespClient.fields((List<?>) replies.get(i));
				if (summary.isEmpty() && !this.drainedRounds.contains(page.get(i).round())) {
					this.wiped.add(page.get(i).stream());
				}
				else {
					this.summaries.put(page.get(i).stream(), summary);
					finished++;
				}
			}
		}
		List<AuditRecord> records = AuditRecord.readAll(redis);
		this.audit.addAll(records);
		for (Object letter : (List<?>) redis.call("XRANGE", ChaosSettings.DEAD_LETTERS, "-", "+")) {
			this.deadLetters.add((List<?>) letter);
		}
		logger.info("Before the wipe: {} finished sessions archived, {} unfinished ones will be wiped, {} audit records "
				+ "archived", finished, open.size() - finished, records.size());
	}

	/** Notes that every session of the round was finished (the run waited for it). */
	synchronized void drained(String round) {
		this.drainedRounds.add(round);
	}

	/** Records the moment Redis was killed. */
	synchronized void wiped(long killMillis) {
		this.wipes.add(killMillis);
	}

	/** The archived summary of a session finished before a wipe, or null. */
	synchronized Map<String, String> summary(String stream) {
		return this.summaries.get(stream);
	}

	synchronized boolean isWiped(String stream) {
		return this.wiped.contains(stream);
	}

	synchronized Set<String> wipedStreams() {
		return new LinkedHashSet<>(this.wiped);
	}

	/** The archived audit records, oldest first (all of them before the records now in Redis). */
	synchronized List<AuditRecord> audit() {
		return new ArrayList<>(this.audit);
	}

	synchronized List<List<?>> deadLetters() {
		return new ArrayList<>(this.deadLetters);
	}

	/**
	 * Whether a wipe came after the moment (so what was written then is gone unless archived).
	 */
	synchronized boolean wipedAfter(long millis) {
		return this.wipes.stream().anyMatch((kill) -> kill >= millis);
	}

	synchronized boolean any() {
		return !this.wipes.isEmpty();
	}

}
