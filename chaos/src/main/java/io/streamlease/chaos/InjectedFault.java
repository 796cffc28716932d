package io.streamlease.chaos;

import java.util.List;
import java.util.Map;

/**
 * One fault as it was injected.
 *
 * @param kind what it was
 * @param round the round (scenario) it belongs to
 * @param victim the consumer id of the instance it hit, or null for a Redis fault or a malformed burst
 * @param startMillis when it began (epoch millis): the kill, the SIGSTOP, the SIGTERM, Redis stopping
 * @param endMillis when it ended: SIGCONT, the process exit, Redis answering again
 * @param held the leases that the fault put at stake, by stream: the victim's (an instance fault) or all (a Redis
 * fault), as found in Redis just before it
 * @param malformed the malformed LBS entries written (a burst)
 * @param handoff for a graceful stop, when the victim's engine finished handing off and how many streams (from its
 * log), else null
 * @param bystanders for a Redis fault, the consumer ids serving when it began: each must act again afterwards
 * (its engine reconnected by itself)
 * @param health for a Redis fault, the watch of the bystanders' health through it (what it said during the fault,
 * when it was UP again), else null
 * @param detail what else happened, for the report (the failover's old and new master), or null
 */
record InjectedFault(FaultKind kind, String round, String victim, long startMillis, long endMillis,
		Map<String, HeldLease> held, List<MalformedEntry> malformed, SampleInstance.Handoff handoff,
		List<String> bystanders, HealthWatch health, String detail) {

	/**
	 * A lease in Redis at the time of a fault.
	 */
	record HeldLease(String stream, long token, String consumer) {
	}

	/**
	 * A malformed LBS entry and the dead-letter reason it must get.
	 *
	 * @param marker the value of its {@code chaos-marker} field, unique in the run
	 * @param reason the dead-letter reason it must get
	 * @param retried whether its write was retried (so it may have been written twice)
	 * @param writtenMillis when its write succeeded (a wipe after that deletes it, unless it was dead-lettered first)
	 */
	record MalformedEntry(String marker, String reason, boolean retried, long writtenMillis) {
	}

	String describe() {
		String what = this.kind.description();
		if (this.victim != null) {
			what += " (" + this.victim + ")";
		}
		if (this.kind == FaultKind.MALFORMED_BURST) {
			what += " (" + this.malformed.size() + " entries)";
		}
		if (this.detail != null) {
			what += " (" + this.detail + ")";
		}
		return what;
	}

}
