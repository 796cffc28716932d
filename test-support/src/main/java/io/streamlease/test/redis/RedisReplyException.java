package io.streamlease.test.redis;

/**
 * Thrown by {@link RedisServer#command(String...)} when Redis answers with an error reply such as
 * {@code -ERR}, {@code -MOVED} or {@code -NOAUTH}. Inside an array reply an error element is returned as an
 * instance of this exception instead of being thrown.
 */
public final class RedisReplyException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final String errorReply;

	RedisReplyException(String errorReply, String context) {
		super((context != null) ? errorReply + " (" + context + ")" : errorReply);
		this.errorReply = errorReply;
	}

	/**
	 * Return the error reply as Redis sent it, without the leading {@code -}, for example
	 * {@code MOVED 12182 127.0.0.1:41234}.
	 * @return the error reply
	 */
	public String errorReply() {
		return this.errorReply;
	}

}
