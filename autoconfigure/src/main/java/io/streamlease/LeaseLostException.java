package io.streamlease;

/**
 * Thrown by a fenced operation when this consumer no longer holds the lease of the data stream: the operation
 * was refused and nothing was written.
 */
public class LeaseLostException extends StreamLeaseException {

	private final String stream;

	public LeaseLostException(String stream, String message) {
		super(message);
		this.stream = stream;
	}

	/**
	 * The data stream whose lease was lost.
	 */
	public String getStream() {
		return this.stream;
	}

}
