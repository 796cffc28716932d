package io.streamlease;

/**
 * A {@link StreamHandler} method threw: wraps the exception and names the handler method and the stream.
 */
public class HandlerFailedException extends StreamLeaseException {

	private final String stream;

	public HandlerFailedException(String message, String stream, Throwable cause) {
		super(message, cause);
		this.stream = stream;
	}

	/**
	 * The data stream being processed.
	 */
	public String getStream() {
		return this.stream;
	}

}
