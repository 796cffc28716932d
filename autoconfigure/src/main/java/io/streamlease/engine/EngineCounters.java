package io.streamlease.engine;

/**
 * What one engine has done since it started.
 *
 * @param added streams assigned from the LBS
 * @param claimed streams claimed after a peer's lease lapsed or was handed off
 * @param completed streams finished (done)
 * @param disowned leases lost while held
 * @param handedOff leases handed off at close
 * @param deadLettered LBS entries moved to the dead-letter stream
 * @param duplicates LBS entries that arrived for a stream already held (recorded as resubmissions)
 */
public record EngineCounters(long added, long claimed, long completed, long disowned, long handedOff, long deadLettered,
		long duplicates) {
}
