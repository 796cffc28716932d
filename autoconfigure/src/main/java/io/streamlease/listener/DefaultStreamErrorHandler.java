package io.streamlease.listener;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.streamlease.HandlerFailedException;
import org.springframework.messaging.converter.MessageConversionException;
import org.springframework.messaging.handler.invocation.MethodArgumentResolutionException;
import org.springframework.util.Assert;

/**
 * The error policy of Stream Lease (spring-kafka's {@code DefaultErrorHandler} is the model): up to
 * {@code maxAttempts} attempts per stream with an exponential back-off (doubling from {@code initialBackoff} up to
 * {@code maxBackoff}), no retry for failures that cannot succeed on retry, then the stream goes to the dead-letter
 * stream.
 * <p>
 * Not retried, whatever the attempts left: failures whose exception, or any of its causes, is an instance of a
 * not-retryable type. By default those are the argument failures (spring-messaging could not resolve or convert an
 * argument); add your own with {@link #addNotRetryableExceptions(Class[])}.
 */
public class DefaultStreamErrorHandler implements StreamHandlerErrorHandler {

	/** The failures that are never retried by default: the arguments of the method cannot be resolved. */
	static final List<Class<? extends Throwable>> ARGUMENT_FAILURES = List.of(HandlerInvoker.ArgumentsFailedException.class,
			MethodArgumentResolutionException.class, MessageConversionException.class);

	private final int maxAttempts;

	private final Duration initialBackoff;

	private final Duration maxBackoff;

	private final Set<Class<? extends Throwable>> notRetryable;

	/**
	 * A policy with the defaults of {@code stream-lease.handler.*}: 3 attempts, back-off from 500 ms to 30 s.
	 */
	public DefaultStreamErrorHandler() {
		this(3, Duration.ofMillis(500), Duration.ofSeconds(30));
	}

	/**
	 * @param maxAttempts attempts per stream (at least 1) before the stream is recovered
	 * @param initialBackoff the delay before the first retry, doubled after each further failure
	 * @param maxBackoff the longest delay between attempts (not less than {@code initialBackoff})
	 */
	public DefaultStreamErrorHandler(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
		this(maxAttempts, initialBackoff, maxBackoff, new LinkedHashSet<>(ARGUMENT_FAILURES));
	}

	private DefaultStreamErrorHandler(int maxAttempts, Duration initialBackoff, Duration maxBackoff,
			Set<Class<? extends Throwable>> notRetryable) {
		Assert.isTrue(maxAttempts > 0, () -> "maxAttempts is " + maxAttempts + " but it must be greater than 0");
		Assert.isTrue(initialBackoff != null && initialBackoff.compareTo(Duration.ZERO) > 0,
				() -> "initialBackoff is " + initialBackoff + " but it must be greater than 0");
		Assert.isTrue(maxBackoff != null && maxBackoff.compareTo(initialBackoff) >= 0, () -> "maxBackoff is "
				+ maxBackoff + " but it must not be less than initialBackoff (" + initialBackoff + ")");
		this.maxAttempts = maxAttempts;
		this.initialBackoff = initialBackoff;
		this.maxBackoff = maxBackoff;
		this.notRetryable = notRetryable;
	}

	/**
	 * Adds exception types that are never retried: a failure whose exception or any of its causes is an instance
	 * of one of them goes to the dead-letter stream at once.
	 * @return this policy
	 */
	@SafeVarargs
	public final DefaultStreamErrorHandler addNotRetryableExceptions(Class<? extends Throwable>... types) {
		this.notRetryable.addAll(List.of(types));
		return this;
	}

	/**
	 * This policy with another number of attempts (for a handler that overrides it); the classification is kept.
	 */
	public DefaultStreamErrorHandler withMaxAttempts(int maxAttempts) {
		return new DefaultStreamErrorHandler(maxAttempts, this.initialBackoff, this.maxBackoff,
				new LinkedHashSet<>(this.notRetryable));
	}

	/**
	 * This policy with another back-off (for a handler that overrides it); the classification is kept.
	 */
	public DefaultStreamErrorHandler withBackoff(Duration initialBackoff, Duration maxBackoff) {
		return new DefaultStreamErrorHandler(this.maxAttempts, initialBackoff, maxBackoff,
				new LinkedHashSet<>(this.notRetryable));
	}

	public int getMaxAttempts() {
		return this.maxAttempts;
	}

	public Duration getInitialBackoff() {
		return this.initialBackoff;
	}

	public Duration getMaxBackoff() {
		return this.maxBackoff;
	}

	@Override
	public Duration retryDelay(HandlerFailedException failure, int attempts) {
		if (attempts >= this.maxAttempts || notRetryableCause(failure) != null) {
			return null;
		}
		return backoff(attempts);
	}

	/**
	 * The delay after {@code attempts} failures: {@code initialBackoff} doubled {@code attempts - 1} times, at most
	 * {@code maxBackoff}.
	 */
	public Duration backoff(int attempts) {
		return exponential(this.initialBackoff, this.maxBackoff, attempts);
	}

	static Duration exponential(Duration initial, Duration max, int attempts) {
		long delay = initial.toMillis() << Math.min(Math.max(attempts - 1, 0), 20);
		return Duration.ofMillis(Math.min(delay, max.toMillis()));
	}

	@Override
	public void recover(FailedStream failed) {
		failed.deadLetter(failed.failure().getMessage() + describeEnd(failed.failure(), failed.attempts()));
	}

	/**
	 * Why the stream is not tried again, for its dead letter and the log.
	 */
	String describeEnd(HandlerFailedException failure, int attempts) {
		Throwable cause = notRetryableCause(failure);
		if (cause == null) {
			return " (attempt " + attempts + " of " + this.maxAttempts + ")";
		}
		boolean arguments = ARGUMENT_FAILURES.stream().anyMatch((type) -> type.isInstance(cause));
		return arguments ? " (not retried: the arguments cannot be resolved)"
				: " (not retried: " + cause.getClass().getName() + " is not retryable)";
	}

	private Throwable notRetryableCause(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = (cause.getCause() != cause) ? cause.getCause() : null) {
			for (Class<? extends Throwable> type : this.notRetryable) {
				if (type.isInstance(cause)) {
					return cause;
				}
			}
		}
		return null;
	}

	@Override
	public String toString() {
		return "DefaultStreamErrorHandler[maxAttempts " + this.maxAttempts + ", backoff " + this.initialBackoff + " to "
				+ this.maxBackoff + ", not retryable " + this.notRetryable.stream().map(Class::getSimpleName).toList() + "]";
	}

}
