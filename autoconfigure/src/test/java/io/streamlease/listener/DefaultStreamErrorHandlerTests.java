package io.streamlease.listener;

import java.io.UncheckedIOException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.streamlease.HandlerFailedException;
import io.streamlease.HandlerTimeoutException;
import io.streamlease.LeasedStream;
import org.junit.jupiter.api.Test;
import org.springframework.messaging.converter.MessageConversionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The default error policy on its own: attempts, back-off, classification and the dead letter it writes.
 */
class DefaultStreamErrorHandlerTests {

	private final DefaultStreamErrorHandler policy = new DefaultStreamErrorHandler(3, Duration.ofMillis(100),
			Duration.ofMillis(250));

	@Test
	void retriesWithADoublingBackoffCappedAtTheMaximumUntilTheAttemptsAreUsed() {
		HandlerFailedException failure = failure(new IllegalStateException("boom"));
		assertThat(this.policy.retryDelay(failure, 1)).isEqualTo(Duration.ofMillis(100));
		assertThat(this.policy.retryDelay(failure, 2)).isEqualTo(Duration.ofMillis(200));
		assertThat(this.policy.retryDelay(failure, 3)).isNull();
		assertThat(this.policy.retryDelay(failure, 4)).isNull();
		assertThat(this.policy.backoff(3)).isEqualTo(Duration.ofMillis(250));
		assertThat(this.policy.backoff(1000)).isEqualTo(Duration.ofMillis(250));
	}

	@Test
	void theDefaultsAreThoseOfTheProperties() {
		DefaultStreamErrorHandler defaults = new DefaultStreamErrorHandler();
		assertThat(defaults.getMaxAttempts()).isEqualTo(3);
		assertThat(defaults.getInitialBackoff()).isEqualTo(Duration.ofMillis(500));
		assertThat(defaults.getMaxBackoff()).isEqualTo(Duration.ofSeconds(30));
	}

	@Test
	void argumentFailuresAreNeverRetried() {
		HandlerFailedException arguments = new HandlerInvoker.ArgumentsFailedException("cannot call", "s1",
				new MessageConversionException("no converter"));
		assertThat(this.policy.retryDelay(arguments, 1)).isNull();
		assertThat(this.policy.describeEnd(arguments, 1)).isEqualTo(" (not retried: the arguments cannot be resolved)");
		HandlerFailedException nested = failure(new MessageConversionException("no converter"));
		assertThat(this.policy.retryDelay(nested, 1)).isNull();
	}

	@Test
	void addedNotRetryableTypesMatchAnywhereInTheCauseChain() {
		this.policy.addNotRetryableExceptions(IOException.class);
		HandlerFailedException failure = failure(new UncheckedIOException(new IOException("disk full")));
		assertThat(this.policy.retryDelay(failure, 1)).isNull();
		assertThat(this.policy.describeEnd(failure, 1)).isEqualTo(" (not retried: java.io.IOException is not retryable)");
		assertThat(this.policy.retryDelay(failure(new IllegalStateException("other")), 1)).isNotNull();
	}

	@Test
	void aTimeoutIsRetriedByDefaultAndCanBeMadeNotRetryable() {
		HandlerFailedException timeout = new HandlerTimeoutException("too slow", "s1", Duration.ofSeconds(1), null);
		assertThat(this.policy.retryDelay(timeout, 1)).isEqualTo(Duration.ofMillis(100));
		this.policy.addNotRetryableExceptions(HandlerTimeoutException.class);
		assertThat(this.policy.retryDelay(timeout, 1)).isNull();
	}

	@Test
	void overridesKeepTheClassificationAndLeaveTheOriginalAlone() {
		this.policy.addNotRetryableExceptions(IllegalArgumentException.class);
		DefaultStreamErrorHandler more = this.policy.withMaxAttempts(5).withBackoff(Duration.ofSeconds(1),
				Duration.ofSeconds(4));
		assertThat(more.retryDelay(failure(new IllegalStateException("boom")), 4)).isEqualTo(Duration.ofSeconds(4));
		assertThat(more.retryDelay(failure(new IllegalArgumentException("bad")), 1)).isNull();
		assertThat(this.policy.getMaxAttempts()).isEqualTo(3);
		assertThat(this.policy.retryDelay(failure(new IllegalStateException("boom")), 4)).isNull();
	}

	@Test
	void recoveryDeadLettersWithTheFailureAndTheAttempts() {
		List<String> letters = new ArrayList<>();
		HandlerFailedException failure = failure(new IllegalStateException("boom"));
		this.policy.recover(failed(failure, 3, letters));
		assertThat(letters).containsExactly("@StreamHandler method H.handle() failed on stream 's1': "
				+ "java.lang.IllegalStateException: boom (attempt 3 of 3)");
	}

	@Test
	void badSettingsAreRefusedNamingTheValue() {
		assertThatIllegalArgumentException().isThrownBy(() -> new DefaultStreamErrorHandler(0, Duration.ofSeconds(1),
				Duration.ofSeconds(1))).withMessageContaining("maxAttempts is 0");
		assertThatIllegalArgumentException().isThrownBy(() -> new DefaultStreamErrorHandler(1, Duration.ZERO,
				Duration.ofSeconds(1))).withMessageContaining("initialBackoff is PT0S");
		assertThatIllegalArgumentException().isThrownBy(() -> new DefaultStreamErrorHandler(1, Duration.ofSeconds(2),
				Duration.ofSeconds(1))).withMessageContaining("maxBackoff is PT1S");
	}

	private static HandlerFailedException failure(Throwable cause) {
		return new HandlerFailedException("@StreamHandler method H.handle() failed on stream 's1': " + cause, "s1", cause);
	}

	private static StreamHandlerErrorHandler.FailedStream failed(HandlerFailedException failure, int attempts,
			List<String> letters) {
		return new StreamHandlerErrorHandler.FailedStream() {

			@Override
			public LeasedStream stream() {
				return null;
			}

			@Override
			public HandlerFailedException failure() {
				return failure;
			}

			@Override
			public int attempts() {
				return attempts;
			}

			@Override
			public void deadLetter(String detail) {
				letters.add(detail);
			}

		};
	}

}
