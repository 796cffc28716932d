package io.streamlease;

import java.util.Map;
import java.util.Objects;

/**
 * The last checkpoint of a data stream: where processing got to, a small user state, the fencing token of the
 * writer, and how many handler attempts have been counted for the current run.
 *
 * @param position the id of the last processed data stream entry, empty when none
 * @param state the user state written with the position
 * @param fencingToken the fencing token of the lease under which it was written, 0 when never written
 * @param attempts the handler attempts counted for the stream so far (survives a failover)
 */
public record Checkpoint(String position, Map<String, String> state, long fencingToken, int attempts) {

	/**
	 * No checkpoint written yet.
	 */
	public static final Checkpoint NONE = new Checkpoint("", Map.of(), 0, 0);

	public Checkpoint {
		Objects.requireNonNull(position, "position");
		state = Map.copyOf(state);
	}

	/**
	 * Whether a position was recorded.
	 */
	public boolean hasPosition() {
		return !this.position.isEmpty();
	}

	/**
	 * A copy with another attempt count.
	 */
	public Checkpoint withAttempts(int attempts) {
		return new Checkpoint(this.position, this.state, this.fencingToken, attempts);
	}

}
